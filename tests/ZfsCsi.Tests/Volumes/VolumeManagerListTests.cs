using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

public sealed class VolumeManagerListTests : VolumeManagerHarness
{
    private static readonly string[] ReadyNames = ["pvc-e", "pvc-b", "pvc-a", "pvc-d", "pvc-c"];

    /// <summary>The parent, five ready volumes out of order, one unfinished, one foreign and snapshots.</summary>
    private string Children() =>
        VolumeRows("data/k8s", csiName: null)
        + string.Concat(ReadyNames.Select(n => Ours("data/k8s/" + n, n)))
        + Ours("data/k8s/pvc-0-creating", "pvc-0-creating", Markers.StateCreating)
        + Foreign("data/k8s/aaa-foreign")
        + VolumeRows("data/k8s@hourly", "x", markerSource: "inherited from data/k8s")
        + VolumeRows("data/k8s/pvc-a@snap", "pvc-a", markerSource: "inherited from data/k8s/pvc-a");

    [Fact]
    public async Task Captured_children_list_only_our_ready_volume()
    {
        Runner.OnZfs(GetChildren()).Returns(ZfsFuseOutput.GetChildren);

        var page = await Manager.ListAsync(0, null, Ct);

        var volume = Assert.Single(page.Volumes);
        Assert.Equal("data/k8s/pvc-1", volume.Id.Value);
        Assert.Equal(GiB, volume.CapacityBytes);
        Assert.True(volume.Mounted);
        Assert.Equal("/tmp/data/k8s/pvc-1", volume.Mountpoint);
        Assert.Null(page.NextToken);
    }

    [Fact]
    public async Task Listing_many_volumes_is_one_zfs_process_sorted_without_unfinished_foreign_or_snapshots()
    {
        Runner.OnZfs(GetChildren()).Returns(Children());

        var page = await Manager.ListAsync(0, null, Ct);

        Assert.Equal(
            ["data/k8s/pvc-a", "data/k8s/pvc-b", "data/k8s/pvc-c", "data/k8s/pvc-d", "data/k8s/pvc-e"],
            page.Volumes.Select(v => v.Id.Value)
        );
        Assert.Equal([GetChildren()], Runner.Argv);
        Assert.Null(page.NextToken);
    }

    [Fact]
    public async Task Pages_continue_after_the_last_name_with_one_process_each()
    {
        Runner.OnZfs(GetChildren()).Returns(Children());

        var first = await Manager.ListAsync(2, null, Ct);
        var second = await Manager.ListAsync(2, first.NextToken, Ct);
        var third = await Manager.ListAsync(2, second.NextToken, Ct);

        Assert.Equal(["data/k8s/pvc-a", "data/k8s/pvc-b"], first.Volumes.Select(v => v.Id.Value));
        Assert.Equal(["data/k8s/pvc-c", "data/k8s/pvc-d"], second.Volumes.Select(v => v.Id.Value));
        Assert.Equal(["data/k8s/pvc-e"], third.Volumes.Select(v => v.Id.Value));
        Assert.NotNull(first.NextToken);
        Assert.NotNull(second.NextToken);
        Assert.Null(third.NextToken);
        Assert.Equal(3, Runner.Calls.Count);
    }

    [Fact]
    public async Task A_page_exactly_as_large_as_what_is_left_has_no_next_token()
    {
        Runner.OnZfs(GetChildren()).Returns(Children());

        var page = await Manager.ListAsync(5, null, Ct);

        Assert.Equal(5, page.Volumes.Count);
        Assert.Null(page.NextToken);
    }

    [Fact]
    public async Task A_page_continues_even_when_its_last_volume_was_deleted_meanwhile()
    {
        Runner.OnZfs(GetChildren()).Returns(Children());

        var page = await Manager.ListAsync(3, PageToken.Issue("data/k8s/pvc-b0-deleted"), Ct);

        Assert.Equal(["data/k8s/pvc-c", "data/k8s/pvc-d", "data/k8s/pvc-e"], page.Volumes.Select(v => v.Id.Value));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("ZGF0YS9rOHMvcHZjLWI.ffffffffffff")]
    public async Task A_token_we_did_not_issue_is_aborted_before_any_process(string token)
    {
        await Assert.ThrowsAsync<InvalidPageTokenException>(() => Manager.ListAsync(0, token, Ct));

        Assert.Empty(Runner.Calls);
    }

    [Fact]
    public async Task Negative_max_entries_is_invalid_input()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() => Manager.ListAsync(-1, null, Ct));

        Assert.Empty(Runner.Calls);
    }

    [Fact]
    public async Task Without_the_parent_dataset_listing_is_unavailable()
    {
        Runner.OnZfs(GetChildren()).Fails(DoesNotExist("data/k8s"));
        Runner.OnZfs(GetName("data/k8s")).Fails(DoesNotExist("data/k8s"));

        await Assert.ThrowsAsync<PoolUnavailableException>(() => Manager.ListAsync(0, null, Ct));
    }

    [Fact]
    public async Task Capacity_is_what_the_parent_can_take_and_what_the_whole_pool_holds()
    {
        Runner.OnZfs(GetCapacity()).Returns(ZfsFuseOutput.GetCapacity);

        var capacity = await Manager.GetCapacityAsync(Ct);

        Assert.Equal(94507008, capacity.AvailableBytes);
        Assert.Equal(913408 + 94507008, capacity.MaximumVolumeBytes);
        Assert.Equal(CapacityRange.MinimumBytes, capacity.MinimumVolumeBytes);
        Assert.Single(Runner.Calls);
    }
}

public sealed class VolumeManagerListOddNamesTests : VolumeManagerHarness
{
    private string TwoGoodVolumes() =>
        ZfsScript.VolumeRows("data/k8s", csiName: null)
        + Ours("data/k8s/pvc-a", "pvc-a")
        + Ours("data/k8s/pvc-b", "pvc-b");

    [Fact]
    public async Task A_renamed_copy_with_a_space_in_its_name_does_not_break_the_listing()
    {
        Runner.OnZfs(GetChildren()).Returns(TwoGoodVolumes() + Ours("data/k8s/old copy", "pvc-a"));

        var page = await Manager.ListAsync(0, null, Ct);

        Assert.Equal(["data/k8s/pvc-a", "data/k8s/pvc-b"], page.Volumes.Select(v => v.Id.Value));
    }

    [Fact]
    public async Task Only_ids_the_other_rpcs_accept_are_listed()
    {
        Runner.OnZfs(GetChildren()).Returns(TwoGoodVolumes() + Ours("data/k8s/Backup", "pvc-c"));

        var page = await Manager.ListAsync(0, null, Ct);

        Assert.All(page.Volumes, v => Assert.NotNull(Manager.ParseId(v.Id.Value)));
    }

    [Fact]
    public async Task Capacity_with_a_pool_root_parent_reads_the_pool_once_over()
    {
        using var mounts = new MountSerializer(lockFile: null);
        var manager = new VolumeManager(
            new ZfsClient(Runner, Options, mounts),
            new VolumeOptions { ParentDataset = "data" },
            new Serilog.LoggerConfiguration().CreateLogger(),
            new SweepRequests(),
            new OperationLocks()
        );
        // Captured from zfs-fuse: naming a dataset twice prints its rows twice.
        Runner
            .OnZfs("get")
            .Returns(
                "data\tused\t2793472\t-\ndata\tavailable\t487940096\t-\ndata\tused\t2793472\t-\ndata\tavailable\t487940096\t-\n"
            );

        var capacity = await manager.GetCapacityAsync(Ct);

        Assert.Equal(487940096, capacity.AvailableBytes);
        Assert.Equal(2793472 + 487940096, capacity.MaximumVolumeBytes);
    }
}
