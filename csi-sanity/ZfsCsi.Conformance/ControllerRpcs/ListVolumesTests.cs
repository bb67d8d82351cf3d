using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>CSI spec, "ListVolumes" and "ListVolumes Errors" (LIST_VOLUMES): paging.</summary>
public sealed class ListVolumesTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    public override Task InitializeAsync()
    {
        Assert.True(Fx.Advertises(ControllerRpc.ListVolumes), "the controller does not advertise LIST_VOLUMES");
        return Task.CompletedTask;
    }

    /// <summary>Every id over every page, in order, following next_token until it is empty.</summary>
    public static async Task<List<string>> AllIdsAsync(Csi.V1.Controller.ControllerClient controller, int maxEntries)
    {
        var ids = new List<string>();
        var token = "";
        for (var pages = 0; ; pages++)
        {
            Assert.True(pages < 10_000, "ListVolumes never returned an empty next_token");
            var page = await controller.ListVolumesAsync(
                new ListVolumesRequest { MaxEntries = maxEntries, StartingToken = token }
            );
            if (maxEntries > 0)
            {
                // max_entries: "the Plugin MUST NOT return more entries than this number".
                Assert.True(
                    page.Entries.Count <= maxEntries,
                    $"a page of {page.Entries.Count} entries for max_entries {maxEntries}"
                );
            }
            ids.AddRange(page.Entries.Select(e => e.Volume.VolumeId));
            if (page.NextToken.Length == 0)
            {
                return ids;
            }
            token = page.NextToken;
        }
    }

    [Fact]
    [Trait("spec", "ListVolumes")]
    public async Task Paging_with_max_entries_lists_every_volume_exactly_once_and_ends_with_an_empty_next_token()
    {
        var made = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            made.Add((await Volumes.CreateAsync("list")).VolumeId);
        }
        // 0 means no limit; 1, 2 and 3 page 5+ volumes with a partial last page or an exact fit.
        var everything = await AllIdsAsync(Fx.Controller, 0);
        foreach (var maxEntries in new[] { 0, 1, 2, 3, 5 })
        {
            var ids = await AllIdsAsync(Fx.Controller, maxEntries);
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.All(made, id => Assert.Contains(id, ids));
            Assert.Equal(everything.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    [Trait("spec", "ListVolumes")]
    public async Task Listed_entries_carry_the_volume_id_and_capacity_CreateVolume_returned()
    {
        var volume = await Volumes.CreateAsync("list-entry");
        var entry = await FindAsync(volume.VolumeId);
        Assert.Equal(volume.CapacityBytes, entry.Volume.CapacityBytes);
        if (!Fx.Advertises(ControllerRpc.ListVolumesPublishedNodes))
        {
            // Entry.status: published_node_ids only with LIST_VOLUMES_PUBLISHED_NODES.
            Assert.True(entry.Status is null || entry.Status.PublishedNodeIds.Count == 0);
        }
    }

    [Fact]
    [Trait("spec", "ListVolumes Errors")]
    public async Task An_invalid_starting_token_is_ABORTED()
    {
        // ListVolumes Errors: "Invalid starting_token | 10 ABORTED".
        await Rpc.FailsWith(
            StatusCode.Aborted,
            Fx.Controller.ListVolumesAsync(new ListVolumesRequest { StartingToken = "invalid-token" })
        );
    }

    [Fact]
    [Trait("spec", "ListVolumes")]
    public async Task A_negative_max_entries_is_INVALID_ARGUMENT()
    {
        // max_entries: "The value of this field MUST NOT be negative."
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = -1 })
        );
    }

    [Fact]
    [Trait("spec", "ListVolumes")]
    public async Task A_next_token_stays_valid_when_the_last_volume_of_its_page_is_deleted()
    {
        // The CO pages while volumes come and go (csi-sanity: "pagination should detect volumes
        // added between pages and accept tokens when the last volume from a page is deleted").
        for (var i = 0; i < 4; i++)
        {
            await Volumes.CreateAsync("list-del");
        }
        var first = await Fx.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 2 });
        Assert.Equal(2, first.Entries.Count);
        Assert.NotEqual("", first.NextToken);
        var last = first.Entries[^1].Volume.VolumeId;
        await Fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = last });
        var added = await Volumes.CreateAsync("list-add");

        var rest = new List<string>();
        var token = first.NextToken;
        while (token.Length > 0)
        {
            var page = await Fx.Controller.ListVolumesAsync(
                new ListVolumesRequest { MaxEntries = 2, StartingToken = token }
            );
            rest.AddRange(page.Entries.Select(e => e.Volume.VolumeId));
            token = page.NextToken;
        }
        Assert.DoesNotContain(last, rest);
        Assert.DoesNotContain(first.Entries[0].Volume.VolumeId, rest);
        var all = await AllIdsAsync(Fx.Controller, 2);
        Assert.Contains(added.VolumeId, all);
        Assert.DoesNotContain(last, all);
    }

    [Fact]
    [Trait("spec", "ListVolumes")]
    public async Task ListVolumes_twice_gives_the_same_answer()
    {
        await Volumes.CreateAsync("list-idem");
        var first = await Fx.Controller.ListVolumesAsync(new ListVolumesRequest());
        var second = await Fx.Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.Equal(first, second);
    }

    private async Task<ListVolumesResponse.Types.Entry> FindAsync(string id)
    {
        var token = "";
        do
        {
            var page = await Fx.Controller.ListVolumesAsync(new ListVolumesRequest { StartingToken = token });
            if (page.Entries.FirstOrDefault(e => e.Volume.VolumeId == id) is { } entry)
            {
                return entry;
            }
            token = page.NextToken;
        } while (token.Length > 0);
        throw new InvalidOperationException($"volume {id} is not listed");
    }
}
