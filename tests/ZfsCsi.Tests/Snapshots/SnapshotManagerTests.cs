using Serilog;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Tests.Snapshots;

/// <summary>The snapshot domain over a fake runner: which commands run, how many, with which argv.</summary>
public sealed class SnapshotManagerTests
{
    private const string Listing =
        "data/k8s\tzfs-csi:name\t-\t-\n"
        + "data/k8s/pvc-1\tzfs-csi:name\tcHZjLTE\tlocal\n"
        + "data/k8s/pvc-1\tzfs-csi:state\tready\tlocal\n"
        + "data/k8s/pvc-1\trefquota\t8388608\tlocal\n"
        + "data/k8s/pvc-2\tzfs-csi:name\tcHZjLTI\tlocal\n"
        + "data/k8s/pvc-2\tzfs-csi:state\tready\tlocal\n"
        + "data/k8s/pvc-2\trefquota\t16777216\tlocal\n";

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

    private static string GroupRows(string leaf, params string[] volumes) =>
        Listing
        + string.Concat(
            volumes.Select(v =>
                $"data/k8s/{v}@{leaf}\tzfs-csi:group\tZw\tlocal\ndata/k8s/{v}@{leaf}\tcreation\t1795619810\t-\n"
            )
        );

    [Fact]
    public async Task On_zfs_fuse_a_group_falls_back_to_one_recursive_snapshot_and_remembers()
    {
        var leaf = SnapshotNaming.GroupLeafFor("g");
        var taken = false;
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", "-r", ..] => ScriptedRunner.Ok(taken ? GroupRows(leaf, "pvc-1", "pvc-2") : Listing),
                ["snapshot", "-o", _, _, _] => ScriptedRunner.Fail(
                    2,
                    "too many arguments\nusage:\n\tsnapshot [-r] ..."
                ),
                ["snapshot", "-r", ..] => ScriptedRunner.Ok(),
                ["rename", ..] => ScriptedRunner.Ok(),
                ["destroy", "-r", ..] => ScriptedRunner.Ok(Then(() => taken = true)),
                ["set", ..] => ScriptedRunner.Ok(),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        var group = await manager.CreateGroupAsync(
            "g",
            ["data/k8s/pvc-1", "data/k8s/pvc-2"],
            new Dictionary<string, string>(),
            CancellationToken.None
        );

        Assert.Equal(2, group.Members.Count);
        Assert.False(manager.SupportsMultiSnapshot);
        var commands = runner.Commands.Select(c => string.Join(' ', c)).ToList();
        Assert.Contains($"snapshot -r -o zfs-csi:group=Zw data/k8s@Tmp-{leaf}", commands);
        Assert.Contains($"rename data/k8s/pvc-1@Tmp-{leaf} data/k8s/pvc-1@{leaf}", commands);
        Assert.Contains($"rename data/k8s/pvc-2@Tmp-{leaf} data/k8s/pvc-2@{leaf}", commands);
        Assert.Contains($"destroy -r data/k8s@Tmp-{leaf}", commands);
    }

    [Fact]
    public async Task On_openzfs_a_group_is_one_snapshot_command_naming_every_member()
    {
        var leaf = SnapshotNaming.GroupLeafFor("g");
        var taken = false;
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", "-r", ..] => ScriptedRunner.Ok(taken ? GroupRows(leaf, "pvc-1", "pvc-2") : Listing),
                ["snapshot", "-o", _, _, _] => ScriptedRunner.Ok(Then(() => taken = true)),
                ["set", ..] => ScriptedRunner.Ok(),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        await manager.CreateGroupAsync(
            "g",
            ["data/k8s/pvc-1", "data/k8s/pvc-2"],
            new Dictionary<string, string>(),
            CancellationToken.None
        );

        Assert.True(manager.SupportsMultiSnapshot);
        Assert.Single(runner.Commands, c => c[0] == "snapshot");
        Assert.DoesNotContain(runner.Commands, c => c[0] is "rename" or "destroy");
        // Each member records its own volume's capacity (one snapshot command cannot).
        var sets = runner.Commands.Where(c => c[0] == "set").Select(c => string.Join(' ', c)).ToList();
        Assert.Equal(
            [
                $"set zfs-csi:capacity=8388608 data/k8s/pvc-1@{leaf}",
                $"set zfs-csi:capacity=16777216 data/k8s/pvc-2@{leaf}",
            ],
            sets
        );
    }

    private static readonly string Claim = "data/k8s/SnapshotNames/Claims@" + SnapshotNaming.ClaimLeafFor("snapshot-1");

    /// <summary>Where releases before the claims moved one level down kept the claim of "snapshot-1".</summary>
    private const string Earlier1 =
        "data/k8s/SnapshotNames@Name-79c6d61344be00e74b64db50b5b9639bbfd2d845d2d686ec380526eb898a9d8a";

    private static string Missing(params string[] names) =>
        string.Concat(names.Select(n => $"cannot open '{n}': dataset does not exist\n"));

    private static string SnapshotRows(string name, string snapshotId, string created = "1795619810") =>
        $"{name}\tzfs-csi:name\tc25hcHNob3QtMQ\tlocal\n{name}\tzfs-csi:snapshot-id\t{snapshotId}\tlocal\n{name}\tcreation\t{created}\t-\n";

    private static readonly string Volume1 = string.Concat(
        Listing.Split('\n').Where(l => l.StartsWith("data/k8s/pvc-1\t", StringComparison.Ordinal)).Select(l => l + "\n")
    );

    private static readonly string Volume2 = string.Concat(
        Listing.Split('\n').Where(l => l.StartsWith("data/k8s/pvc-2\t", StringComparison.Ordinal)).Select(l => l + "\n")
    );

    private static CommandResult Partial(string stdout, params string[] missing) =>
        new(1, stdout, Missing(missing), TimeSpan.Zero);

    [Fact]
    public async Task A_snapshot_name_held_by_another_volume_is_already_exists_without_listing_the_parent()
    {
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", .., "data/k8s/pvc-1", "data/k8s/pvc-1@snapshot-1", var claim, Earlier1] when claim == Claim =>
                    Partial(Volume1 + SnapshotRows(Claim, "data/k8s/pvc-2@snapshot-1"), "data/k8s/pvc-1@snapshot-1"),
                ["get", .., "data/k8s/pvc-2", "data/k8s/pvc-2@snapshot-1"] => ScriptedRunner.Ok(
                    Volume2 + SnapshotRows("data/k8s/pvc-2@snapshot-1", "data/k8s/pvc-2@snapshot-1")
                ),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        var e = await Assert.ThrowsAsync<Core.Errors.AlreadyExistsException>(() =>
            manager.CreateAsync(
                "snapshot-1",
                "data/k8s/pvc-1",
                new Dictionary<string, string>(),
                CancellationToken.None
            )
        );

        Assert.Contains("data/k8s/pvc-2", e.Message);
        Assert.Equal(2, runner.Commands.Count);
        Assert.DoesNotContain(runner.Commands, c => c.Contains("-r") || c.Contains("-d"));
    }

    [Fact]
    public async Task A_snapshot_name_held_where_an_earlier_release_kept_claims_is_already_exists_too()
    {
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", .., "data/k8s/pvc-1", "data/k8s/pvc-1@snapshot-1", var claim, Earlier1] when claim == Claim =>
                    Partial(
                        Volume1 + SnapshotRows(Earlier1, "data/k8s/pvc-2@snapshot-1"),
                        "data/k8s/pvc-1@snapshot-1",
                        Claim
                    ),
                ["get", .., "data/k8s/pvc-2", "data/k8s/pvc-2@snapshot-1"] => ScriptedRunner.Ok(
                    Volume2 + SnapshotRows("data/k8s/pvc-2@snapshot-1", "data/k8s/pvc-2@snapshot-1")
                ),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        await Assert.ThrowsAsync<Core.Errors.AlreadyExistsException>(() =>
            manager.CreateAsync(
                "snapshot-1",
                "data/k8s/pvc-1",
                new Dictionary<string, string>(),
                CancellationToken.None
            )
        );

        Assert.Equal(2, runner.Commands.Count);
    }

    [Fact]
    public async Task A_new_snapshot_and_its_name_claim_are_taken_by_one_zfs_snapshot_where_zfs_takes_several_names()
    {
        var taken = false;
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", .., "data/k8s/pvc-1", "data/k8s/pvc-1@snapshot-1", _, _] => Partial(
                    Volume1,
                    "data/k8s/pvc-1@snapshot-1",
                    Claim
                ),
                ["snapshot", .., var claim, "data/k8s/pvc-1@snapshot-1"] when claim == Claim => ScriptedRunner.Ok(
                    Then(() => taken = true)
                ),
                ["get", .., "data/k8s/pvc-1", "data/k8s/pvc-1@snapshot-1"] when taken => ScriptedRunner.Ok(
                    Volume1 + SnapshotRows("data/k8s/pvc-1@snapshot-1", "data/k8s/pvc-1@snapshot-1")
                ),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        var snapshot = await manager.CreateAsync(
            "snapshot-1",
            "data/k8s/pvc-1",
            new Dictionary<string, string>(),
            CancellationToken.None
        );

        Assert.Equal("data/k8s/pvc-1@snapshot-1", snapshot.Id.Value);
        Assert.Equal(3, runner.Commands.Count);
        var take = Assert.Single(runner.Commands, c => c[0] == "snapshot");
        Assert.Contains("zfs-csi:snapshot-id=data/k8s/pvc-1@snapshot-1", take);
        Assert.Contains("zfs-csi:capacity=8388608", take);
    }

    [Fact]
    public async Task On_zfs_fuse_the_name_claim_is_taken_before_the_snapshot_and_that_is_remembered()
    {
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", .., "data/k8s/pvc-1", "data/k8s/pvc-1@snapshot-1", _, _] => Partial(
                    Volume1,
                    "data/k8s/pvc-1@snapshot-1",
                    Claim
                ),
                ["get", .., "data/k8s/pvc-2", "data/k8s/pvc-2@snapshot-2", _, _] => Partial(
                    Volume2,
                    "data/k8s/pvc-2@snapshot-2",
                    "data/k8s/SnapshotNames/Claims@" + SnapshotNaming.ClaimLeafFor("snapshot-2")
                ),
                ["snapshot", ..] when argv.Count(a => a.Contains('@') && !a.Contains('=')) > 1 => ScriptedRunner.Fail(
                    2,
                    "too many arguments\nusage:\n"
                ),
                ["snapshot", ..] => ScriptedRunner.Ok(),
                ["get", .., var volume, var snapshot] => ScriptedRunner.Ok(
                    (volume == "data/k8s/pvc-1" ? Volume1 : Volume2) + SnapshotRows(snapshot, snapshot)
                ),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        await manager.CreateAsync(
            "snapshot-1",
            "data/k8s/pvc-1",
            new Dictionary<string, string>(),
            CancellationToken.None
        );
        await manager.CreateAsync(
            "snapshot-2",
            "data/k8s/pvc-2",
            new Dictionary<string, string>(),
            CancellationToken.None
        );

        var takes = runner.Commands.Where(c => c[0] == "snapshot").Select(c => c[^1]).ToList();
        // The first create tried the one-command form once (refused, nothing taken); the second went
        // straight to claim, then snapshot.
        Assert.Equal(
            [
                "data/k8s/pvc-1@snapshot-1",
                Claim,
                "data/k8s/pvc-1@snapshot-1",
                "data/k8s/SnapshotNames/Claims@" + SnapshotNaming.ClaimLeafFor("snapshot-2"),
                "data/k8s/pvc-2@snapshot-2",
            ],
            takes
        );
        Assert.False(manager.SupportsMultiSnapshot);
    }

    [Fact]
    public async Task A_claim_whose_snapshot_is_gone_is_taken_over_by_a_request_for_another_volume()
    {
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", .., "data/k8s/pvc-1", "data/k8s/pvc-1@snapshot-1", _, _] => Partial(
                    Volume1 + SnapshotRows(Claim, "data/k8s/pvc-2@snapshot-1"),
                    "data/k8s/pvc-1@snapshot-1"
                ),
                ["get", .., "data/k8s/pvc-2", "data/k8s/pvc-2@snapshot-1"] => Partial(
                    Volume2,
                    "data/k8s/pvc-2@snapshot-1"
                ),
                ["get", ..] when argv.Contains("-d") => ScriptedRunner.Ok(Volume1 + Volume2),
                ["destroy", "-d", var claim] when claim == Claim => ScriptedRunner.Ok(),
                ["snapshot", ..] => ScriptedRunner.Ok(),
                ["get", .., "data/k8s/pvc-1", "data/k8s/pvc-1@snapshot-1"] => ScriptedRunner.Ok(
                    Volume1 + SnapshotRows("data/k8s/pvc-1@snapshot-1", "data/k8s/pvc-1@snapshot-1")
                ),
                _ => ScriptedRunner.Fail(1, "unexpected " + string.Join(' ', argv)),
            }
        );

        var snapshot = await manager.CreateAsync(
            "snapshot-1",
            "data/k8s/pvc-1",
            new Dictionary<string, string>(),
            CancellationToken.None
        );

        Assert.Equal("data/k8s/pvc-1@snapshot-1", snapshot.Id.Value);
        Assert.Contains(["destroy", "-d", Claim], runner.Commands);
        Assert.Contains(runner.Commands, c => c[0] == "snapshot" && c.Contains(Claim));
    }

    [Fact]
    public async Task A_retry_of_a_snapshot_already_taken_costs_one_get_and_takes_nothing()
    {
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", .., "data/k8s/pvc-1", "data/k8s/pvc-1@snapshot-1", _, _] => ScriptedRunner.Ok(
                    Volume1
                        + SnapshotRows("data/k8s/pvc-1@snapshot-1", "data/k8s/pvc-1@snapshot-1")
                        + SnapshotRows(Claim, "data/k8s/pvc-1@snapshot-1")
                ),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        var snapshot = await manager.CreateAsync(
            "snapshot-1",
            "data/k8s/pvc-1",
            new Dictionary<string, string>(),
            CancellationToken.None
        );

        Assert.Equal("data/k8s/pvc-1@snapshot-1", snapshot.Id.Value);
        Assert.Single(runner.Commands);
    }

    [Fact]
    public async Task A_snapshot_size_is_the_capacity_marker_or_else_the_volume_capacity()
    {
        var (manager, _) = Make(argv =>
            argv switch
            {
                ["get", "-r", ..] => ScriptedRunner.Ok(
                    Listing
                        + "data/k8s/pvc-1@snapshot-a\tzfs-csi:name\tYQ\tlocal\n"
                        + "data/k8s/pvc-1@snapshot-a\tzfs-csi:capacity\t4194304\tlocal\n"
                        + "data/k8s/pvc-2@g-0\tzfs-csi:group\tYQ\tlocal\n"
                ),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        var page = await manager.ListAsync(0, null, null, null, CancellationToken.None);

        Assert.Equal([4194304L, 16777216L], page.Snapshots.Select(s => s.SizeBytes));
        Assert.Equal([null, "data/k8s@g-0"], page.Snapshots.Select(s => s.GroupId));
    }

    [Fact]
    public async Task A_listing_of_every_snapshot_reads_two_levels_below_the_parent_so_it_never_visits_a_claim()
    {
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", "-r", "-d", "2", .., "data/k8s"] => ScriptedRunner.Ok(
                    Listing + "data/k8s/pvc-1@snapshot-a\tzfs-csi:name\tYQ\tlocal\n"
                ),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        var page = await manager.ListAsync(0, null, null, null, CancellationToken.None);

        Assert.Equal(["data/k8s/pvc-1@snapshot-a"], page.Snapshots.Select(s => s.Id.Value));
        Assert.Single(runner.Commands);
    }

    [Fact]
    public async Task A_listing_by_source_volume_reads_that_volume_and_its_snapshots_and_the_parents_children_only()
    {
        var (manager, runner) = Make(argv =>
            argv switch
            {
                ["get", "-H", "-p", "-d", "1", .., "data/k8s"] => ScriptedRunner.Ok(Volume1 + Volume2),
                ["get", "-r", "-d", "1", .., "data/k8s/pvc-1"] => ScriptedRunner.Ok(
                    Volume1 + "data/k8s/pvc-1@snapshot-a\tzfs-csi:name\tYQ\tlocal\n"
                ),
                _ => ScriptedRunner.Fail(1, "unexpected"),
            }
        );

        var page = await manager.ListAsync(0, null, null, "data/k8s/pvc-1", CancellationToken.None);

        Assert.Equal(["data/k8s/pvc-1@snapshot-a"], page.Snapshots.Select(s => s.Id.Value));
        Assert.DoesNotContain(runner.Commands, c => c.Contains("-r") && c[^1] == "data/k8s");
    }

    private static string Then(Action action)
    {
        action();
        return "";
    }
}
