using Serilog;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Tests.Snapshots;

/// <summary>
/// Snapshots of a deleted volume that was moved aside when its name was used again keep the ids
/// the CO was given: listed, filtered, grouped and deleted under them, while zfs is told the
/// names where they now are.
/// </summary>
public sealed class MovedVolumeSnapshotTests
{
    private const string Moved = "data/k8s/Deleted-1700000000123-pvc-1";

    private const string Listing =
        "data/k8s\tzfs-csi:name\t-\t-\n"
        + "data/k8s/pvc-1\tzfs-csi:name\tcHZjLTE\tlocal\n"
        + "data/k8s/pvc-1\tzfs-csi:state\tready\tlocal\n"
        + "data/k8s/pvc-1\trefquota\t16777216\tlocal\n"
        + Moved
        + "\tzfs-csi:name\tcHZjLTE\tlocal\n"
        + Moved
        + "\tzfs-csi:state\tdeleted\tlocal\n"
        + Moved
        + "\trefquota\t8388608\tlocal\n"
        + Moved
        + "@snap-a\tzfs-csi:name\tc25hcC1h\tlocal\n"
        + Moved
        + "@snap-a\tzfs-csi:capacity\t8388608\tlocal\n"
        + Moved
        + "@snap-a\tcreation\t1700000000\t-\n"
        + Moved
        + "@snap-a\tdefer_destroy\toff\t-\n"
        + "data/k8s/pvc-1@snap-b\tzfs-csi:name\tc25hcC1i\tlocal\n"
        + "data/k8s/pvc-1@snap-b\tcreation\t1700000100\t-\n"
        + "data/k8s/pvc-1@snap-b\tdefer_destroy\toff\t-\n";

    private static (SnapshotManager Manager, ScriptedRunner Runner) Make(
        Func<IReadOnlyList<string>, CommandResult> script
    )
    {
        var runner = new ScriptedRunner(script);
        var zfs = new ZfsClient(runner, new ZfsOptions(), new MountSerializer(null));
        var logger = new LoggerConfiguration().CreateLogger();
        var volumes = new VolumeManager(
            zfs,
            new VolumeOptions { ParentDataset = "data/k8s" },
            logger,
            new SweepRequests(),
            new OperationLocks()
        );
        return (new SnapshotManager(zfs, volumes, logger), runner);
    }

    private static CommandResult Script(IReadOnlyList<string> argv) =>
        argv switch
        {
            ["get", "-r", .., "data/k8s"] => ScriptedRunner.Ok(Listing),
            ["get", "-r", .., "data/k8s/pvc-1"] => ScriptedRunner.Ok(
                string.Concat(
                    Listing
                        .Split('\n')
                        .Where(l => l.StartsWith("data/k8s/pvc-1", StringComparison.Ordinal))
                        .Select(l => l + "\n")
                )
            ),
            ["get", "-r", .., Moved] => ScriptedRunner.Ok(
                string.Concat(
                    Listing.Split('\n').Where(l => l.StartsWith(Moved, StringComparison.Ordinal)).Select(l => l + "\n")
                )
            ),
            ["get", "-H", "-p", "-d", "1", ..] => ScriptedRunner.Ok(
                $"data/k8s\tzfs-csi:state\t-\t-\ndata/k8s/pvc-1\tzfs-csi:state\tready\tlocal\n{Moved}\tzfs-csi:state\tdeleted\tlocal\n"
            ),
            ["get", _, _, _, _, _, "data/k8s/pvc-1", "data/k8s/pvc-1@snap-a"] => ScriptedRunner.Fail(
                1,
                "cannot open 'data/k8s/pvc-1@snap-a': dataset does not exist\n"
            ),
            ["get", _, _, _, _, _, Moved, Moved + "@snap-a"] => ScriptedRunner.Ok(
                string.Concat(
                    Listing.Split('\n').Where(l => l.StartsWith(Moved, StringComparison.Ordinal)).Select(l => l + "\n")
                )
            ),
            ["get", _, _, _, _, "name", "data/k8s"] => ScriptedRunner.Ok("data/k8s\tname\tdata/k8s\t-\n"),
            _ => ScriptedRunner.Ok(),
        };

    [Fact]
    public async Task The_whole_listing_shows_them_under_their_own_ids_and_source_in_id_order()
    {
        var (manager, _) = Make(Script);

        var page = await manager.ListAsync(0, null, null, null, CancellationToken.None);

        Assert.Equal(["data/k8s/pvc-1@snap-a", "data/k8s/pvc-1@snap-b"], page.Snapshots.Select(s => s.Id.Value));
        Assert.All(page.Snapshots, s => Assert.Equal("data/k8s/pvc-1", s.Source.Value));
        Assert.Equal(8388608, page.Snapshots[0].SizeBytes);
    }

    [Fact]
    public async Task Paging_continues_after_the_last_id_returned()
    {
        var (manager, _) = Make(Script);

        var first = await manager.ListAsync(1, null, null, null, CancellationToken.None);
        var second = await manager.ListAsync(1, first.NextToken, null, null, CancellationToken.None);

        Assert.Equal(["data/k8s/pvc-1@snap-a"], first.Snapshots.Select(s => s.Id.Value));
        Assert.Equal(["data/k8s/pvc-1@snap-b"], second.Snapshots.Select(s => s.Id.Value));
    }

    [Fact]
    public async Task Filtering_by_the_source_volume_id_includes_its_moved_earlier_volumes()
    {
        var (manager, _) = Make(Script);

        var page = await manager.ListAsync(0, null, null, "data/k8s/pvc-1", CancellationToken.None);

        Assert.Equal(["data/k8s/pvc-1@snap-a", "data/k8s/pvc-1@snap-b"], page.Snapshots.Select(s => s.Id.Value));
    }

    [Fact]
    public async Task Filtering_by_id_finds_it_where_it_went()
    {
        var (manager, _) = Make(Script);

        var page = await manager.ListAsync(0, null, "data/k8s/pvc-1@snap-a", null, CancellationToken.None);

        Assert.Equal("data/k8s/pvc-1@snap-a", Assert.Single(page.Snapshots).Id.Value);
    }

    [Fact]
    public async Task Deleting_it_destroys_the_snapshot_where_it_is()
    {
        var (manager, runner) = Make(Script);

        await manager.DeleteAsync("data/k8s/pvc-1@snap-a", CancellationToken.None);

        Assert.Contains(runner.Commands, c => c.SequenceEqual(["destroy", "-d", Moved + "@snap-a"]));
        Assert.DoesNotContain(runner.Commands, c => c.SequenceEqual(["destroy", "-d", "data/k8s/pvc-1@snap-a"]));
    }

    [Fact]
    public async Task A_name_moved_aside_is_never_accepted_as_an_id_from_outside()
    {
        var (manager, runner) = Make(Script);

        await manager.DeleteAsync(Moved + "@snap-a", CancellationToken.None);

        Assert.Null(manager.ParseId(Moved + "@snap-a"));
        Assert.Empty(runner.Commands);
    }
}
