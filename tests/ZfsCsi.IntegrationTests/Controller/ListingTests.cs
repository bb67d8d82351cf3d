using Csi.V1;
using Grpc.Core;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>One fixture per class: this class's pool holds only the volumes it makes.</summary>
public sealed class ListingFixture : Infrastructure.DriverFixture;

/// <summary>ListVolumes paging (CSI spec, ListVolumes: max_entries, starting_token, next_token).</summary>
public sealed class ListingTests(ListingFixture driver) : IClassFixture<ListingFixture>
{
    private async Task<List<string>> CreateAsync(string prefix, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await driver.Client.Controller.CreateVolumeAsync(Create($"{prefix}-{i}"))).Volume.VolumeId);
        }
        return ids;
    }

    private async Task DeleteAllAsync()
    {
        foreach (var e in (await driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries)
        {
            await driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = e.Volume.VolumeId });
        }
    }

    [Fact]
    public async Task Pages_of_three_return_every_volume_once_and_end_with_an_empty_token()
    {
        await DeleteAllAsync();
        var ids = await CreateAsync("pvc-page", 7);
        var seen = new List<string>();
        var sizes = new List<int>();
        var token = "";
        do
        {
            var page = await driver.Client.Controller.ListVolumesAsync(
                new ListVolumesRequest { MaxEntries = 3, StartingToken = token }
            );
            sizes.Add(page.Entries.Count);
            seen.AddRange(page.Entries.Select(e => e.Volume.VolumeId));
            token = page.NextToken;
        } while (token.Length > 0);

        Assert.Equal([3, 3, 1], sizes);
        Assert.Equal(ids.Order(), seen.Order());
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task A_page_token_stays_valid_across_a_driver_restart()
    {
        await DeleteAllAsync();
        var ids = await CreateAsync("pvc-restart", 5);
        var first = await driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 2 });

        await driver.RestartDriverAsync();

        var rest = await driver.Client.Controller.ListVolumesAsync(
            new ListVolumesRequest { StartingToken = first.NextToken }
        );
        Assert.Equal(ids.Order(), first.Entries.Concat(rest.Entries).Select(e => e.Volume.VolumeId).Order());
        Assert.Empty(rest.NextToken);
    }

    [Fact]
    public async Task Volumes_deleted_between_pages_do_not_make_the_listing_skip_or_repeat_others()
    {
        await DeleteAllAsync();
        var ids = (await CreateAsync("pvc-churn", 6)).Order(StringComparer.Ordinal).ToList();
        var first = await driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 3 });
        // Delete the last volume of the first page: the token still points after it.
        await driver.Client.Controller.DeleteVolumeAsync(
            new DeleteVolumeRequest { VolumeId = first.Entries[^1].Volume.VolumeId }
        );
        var rest = await driver.Client.Controller.ListVolumesAsync(
            new ListVolumesRequest { StartingToken = first.NextToken }
        );
        Assert.Equal(ids.Skip(3), rest.Entries.Select(e => e.Volume.VolumeId));
    }

    [Fact]
    public async Task A_forged_token_is_aborted()
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await driver.Client.Controller.ListVolumesAsync(
                new ListVolumesRequest { StartingToken = "cHZjLWEx.000000000000" }
            )
        );
        Assert.Equal(StatusCode.Aborted, e.StatusCode);
    }
}
