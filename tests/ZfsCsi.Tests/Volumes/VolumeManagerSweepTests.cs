using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

/// <summary>
/// The sweep's half-made volumes and moved-aside retained volumes on the fake runner: what is
/// destroyed, with which argv, and what is never touched.
/// </summary>
public sealed class VolumeManagerSweepTests : VolumeManagerHarness
{
    private const string Parent = "data/k8s";
    private const long Created = 1_700_000_000;
    private const string Moved = "data/k8s/Deleted-1700000000000-" + Name;

    private readonly FixedClock _clock = new(DateTimeOffset.FromUnixTimeSeconds(Created) + TimeSpan.FromHours(2));

    private VolumeManager Sweeper => ManagerWith(clock: _clock);

    private static string[] Reread(string dataset) =>
        ["get", "-H", "-p", "-o", Columns, "zfs-csi:name,zfs-csi:state,creation", dataset];

    private static string Inventory(params string[] rows) => Row(Parent, "name", Parent, "-") + string.Concat(rows);

    private string HalfMade(string dataset = Dataset, long created = Created) =>
        Ours(dataset: dataset, state: Markers.StateCreating)
        + Row(dataset, "creation", created.ToString(System.Globalization.CultureInfo.InvariantCulture), "-");

    /// <summary>The first pass sees <paramref name="rows"/>, every later one an empty parent.</summary>
    private void ScriptInventory(string rows) =>
        Runner.OnZfs(GetInventory(Parent)).Returns(Inventory(rows)).Returns(Inventory());

    [Fact]
    public async Task An_abandoned_half_made_volume_is_read_again_under_its_lock_then_unmounted_and_destroyed()
    {
        ScriptInventory(HalfMade());
        Runner.OnZfs(Reread(Dataset)).Returns(HalfMade());
        Runner.OnZfs("unmount").Returns();
        Runner.OnZfs("destroy").Returns();

        await Sweeper.SweepAsync(Ct);

        Assert.Equal(
            [
                GetInventory(Parent),
                Reread(Dataset),
                ["unmount", Dataset],
                ["destroy", "-r", Dataset],
                GetInventory(Parent),
            ],
            Runner.Argv
        );
        using var released = Locks.TryAcquire(Dataset);
        Assert.NotNull(released);
    }

    [Fact]
    public async Task A_half_made_volume_within_the_grace_is_not_touched()
    {
        _clock.Now = DateTimeOffset.FromUnixTimeSeconds(Created) + new VolumeOptions().CreatingGrace;
        ScriptInventory(HalfMade());

        await Sweeper.SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent)], Runner.Argv);
    }

    [Fact]
    public async Task The_grace_is_the_one_configured()
    {
        ScriptInventory(HalfMade());

        await ManagerWith(
                clock: _clock,
                volumes: new VolumeOptions { ParentDataset = Parent, CreatingGrace = TimeSpan.FromHours(3) }
            )
            .SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent)], Runner.Argv);
    }

    [Fact]
    public async Task A_half_made_volume_whose_lock_is_held_by_a_running_retry_is_not_touched()
    {
        ScriptInventory(HalfMade());
        using var retry = Locks.Acquire(Dataset);

        await Sweeper.SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent)], Runner.Argv);
    }

    [Fact]
    public async Task A_half_made_volume_that_a_retry_finished_before_the_lock_was_taken_is_kept()
    {
        ScriptInventory(HalfMade());
        Runner.OnZfs(Reread(Dataset)).Returns(Ours(state: Markers.StateReady));

        await Sweeper.SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent), Reread(Dataset)], Runner.Argv);
    }

    [Fact]
    public async Task A_half_made_volume_with_a_snapshot_of_ours_on_it_is_left_to_a_person()
    {
        ScriptInventory(
            HalfMade() + Row(Dataset + "@snapshot-1", Markers.CsiName, Markers.EncodeName("snapshot-1"), "local")
        );

        await Sweeper.SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent)], Runner.Argv);
    }

    [Fact]
    public async Task A_half_made_volume_holding_a_dataset_made_by_hand_is_not_touched()
    {
        ScriptInventory(HalfMade() + Row(Dataset + "/admin", "name", Dataset + "/admin", "-"));

        await Sweeper.SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent)], Runner.Argv);
    }

    [Fact]
    public async Task A_half_made_dataset_without_our_marker_is_never_destroyed()
    {
        ScriptInventory(
            VolumeRows(Dataset, csiName: null, state: Markers.StateCreating)
                + Row(Dataset, Markers.State, Markers.StateCreating, "local")
                + Row(Dataset, "creation", "1", "-")
        );

        await Sweeper.SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent)], Runner.Argv);
    }

    [Fact]
    public async Task A_retained_volume_moved_aside_is_destroyed_once_nothing_needs_it()
    {
        ScriptInventory(Ours(dataset: Moved, state: Markers.StateDeleted, mounted: false));
        Runner.OnZfs(Reread(Moved)).Returns(Ours(dataset: Moved, state: Markers.StateDeleted, mounted: false));
        Runner.OnZfs("unmount").Fails($"cannot unmount '{Moved}': not currently mounted\n");
        Runner.OnZfs("destroy").Returns();

        await Sweeper.SweepAsync(Ct);

        Assert.Contains(["destroy", "-r", Moved], Runner.Argv);
    }

    [Fact]
    public async Task A_retained_volume_moved_aside_stays_while_a_csi_snapshot_of_it_is_live()
    {
        ScriptInventory(
            Ours(dataset: Moved, state: Markers.StateDeleted, mounted: false)
                + Row(Moved + "@snapshot-1", Markers.CsiName, Markers.EncodeName("snapshot-1"), "local")
                + Row(Moved + "@snapshot-1", "defer_destroy", "off", "-")
                + ClaimRows("snapshot-1", Dataset + "@snapshot-1", created: 0)
        );

        await Sweeper.SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent)], Runner.Argv);
    }

    private static string ClaimOf(string name) => Parent + "/SnapshotNames/Claims@" + SnapshotNaming.ClaimLeafFor(name);

    private static string ClaimRows(string name, string snapshotId, long created) =>
        Row(ClaimOf(name), Markers.CsiName, Markers.EncodeName(name), "local")
        + Row(ClaimOf(name), Markers.SnapshotId, snapshotId, "local")
        + Row(ClaimOf(name), "creation", created.ToString(System.Globalization.CultureInfo.InvariantCulture), "-");

    [Fact]
    public async Task A_live_snapshot_taken_before_name_claims_existed_gets_its_claim()
    {
        ScriptInventory(
            Ours() + Row(Dataset + "@snapshot-1", Markers.CsiName, Markers.EncodeName("snapshot-1"), "local")
        );
        Runner.OnZfs("snapshot").Returns();

        await Sweeper.SweepAsync(Ct);

        Assert.Contains(
            [
                "snapshot",
                "-o",
                $"{Markers.CsiName}={Markers.EncodeName("snapshot-1")}",
                "-o",
                $"{Markers.SnapshotId}={Dataset}@snapshot-1",
                ClaimOf("snapshot-1"),
            ],
            Runner.Argv
        );
    }

    /// <summary>Where releases before the claims moved one level down kept a name's claim.</summary>
    private static string EarlierClaimOf(string name) => Parent + "/SnapshotNames@" + SnapshotNaming.ClaimLeafFor(name);

    private static string EarlierClaimRows(string name, string snapshotId, long created) =>
        ClaimRows(name, snapshotId, created).Replace(ClaimOf(name), EarlierClaimOf(name), StringComparison.Ordinal);

    private static string LiveSnapshot(string name) =>
        Row(Dataset + "@" + name, Markers.CsiName, Markers.EncodeName(name), "local");

    [Fact]
    public async Task A_claim_kept_where_an_earlier_release_kept_claims_moves_to_the_new_place_in_one_sweep_made_before_destroyed()
    {
        ScriptInventory(
            Ours() + LiveSnapshot("snapshot-1") + EarlierClaimRows("snapshot-1", Dataset + "@snapshot-1", Created)
        );
        Runner.OnZfs("snapshot").Returns();
        Runner.OnZfs("destroy").Returns();

        await Sweeper.SweepAsync(Ct);

        var made = Runner.Argv.ToList().FindIndex(a => a[0] == "snapshot" && a[^1] == ClaimOf("snapshot-1"));
        var destroyed = Runner
            .Argv.ToList()
            .FindIndex(a => a.SequenceEqual(["destroy", "-d", EarlierClaimOf("snapshot-1")]));
        Assert.InRange(made, 0, int.MaxValue);
        Assert.True(destroyed > made, "the earlier claim goes only after the name is claimed at its place");
    }

    [Fact]
    public async Task An_earlier_claim_stays_when_its_name_cannot_be_claimed_at_the_new_place()
    {
        ScriptInventory(
            Ours() + LiveSnapshot("snapshot-1") + EarlierClaimRows("snapshot-1", Dataset + "@snapshot-1", Created)
        );
        Runner.OnZfs("snapshot").Fails("cannot create snapshot 'data/k8s/SnapshotNames/Claims@x': out of space");

        await Sweeper.SweepAsync(Ct);

        Assert.DoesNotContain(Runner.Argv, a => a[0] == "destroy");
    }

    [Fact]
    public async Task A_claim_kept_where_an_earlier_release_kept_claims_is_destroyed_once_the_name_is_claimed_at_the_new_place()
    {
        ScriptInventory(
            Ours()
                + LiveSnapshot("snapshot-1")
                + ClaimRows("snapshot-1", Dataset + "@snapshot-1", Created)
                + EarlierClaimRows("snapshot-1", Dataset + "@snapshot-1", Created)
        );
        Runner
            .OnZfs("get", "-H", "-p", "-o", Columns, Markers.SnapshotId, ClaimOf("snapshot-1"))
            .Returns(Row(ClaimOf("snapshot-1"), Markers.SnapshotId, Dataset + "@snapshot-1", "local"));
        Runner.OnZfs("destroy").Returns();

        await Sweeper.SweepAsync(Ct);

        Assert.Contains(["destroy", "-d", EarlierClaimOf("snapshot-1")], Runner.Argv);
        Assert.DoesNotContain(["destroy", "-d", ClaimOf("snapshot-1")], Runner.Argv);
        Assert.DoesNotContain(Runner.Argv, a => a[0] == "snapshot");
    }

    [Fact]
    public async Task A_stale_claim_taken_over_in_the_same_second_by_another_source_is_not_destroyed()
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        ScriptInventory(Ours() + ClaimRows("snapshot-2", Dataset + "@snapshot-2", created: now));
        // Re-read under the lock: same creation second, another holder (a CreateSnapshot took it over).
        Runner
            .OnZfs("get", "-H", "-p", "-o", Columns, "creation," + Markers.SnapshotId, ClaimOf("snapshot-2"))
            .Returns(ClaimRows("snapshot-2", "data/k8s/pvc-other@snapshot-2", created: now));

        await Sweeper.SweepAsync(Ct);

        Assert.DoesNotContain(Runner.Argv, a => a[0] == "destroy");
    }

    [Fact]
    public async Task An_earlier_claim_whose_new_claim_names_another_holder_is_not_taken_as_moved()
    {
        ScriptInventory(
            Ours()
                + LiveSnapshot("snapshot-1")
                + ClaimRows("snapshot-1", "data/k8s/pvc-other@snapshot-1", Created)
                + EarlierClaimRows("snapshot-1", Dataset + "@snapshot-1", Created)
        );

        await Sweeper.SweepAsync(Ct);

        Assert.DoesNotContain(["destroy", "-d", EarlierClaimOf("snapshot-1")], Runner.Argv);
    }

    [Fact]
    public async Task An_earlier_claim_is_kept_while_a_create_of_that_name_holds_its_lock()
    {
        ScriptInventory(
            Ours()
                + LiveSnapshot("snapshot-1")
                + ClaimRows("snapshot-1", Dataset + "@snapshot-1", Created)
                + EarlierClaimRows("snapshot-1", Dataset + "@snapshot-1", Created)
        );
        using var creating = Locks.TryAcquire(SnapshotNaming.NameLockKey("snapshot-1"));

        await Sweeper.SweepAsync(Ct);

        Assert.DoesNotContain(Runner.Argv, a => a[0] == "destroy");
    }

    [Fact]
    public async Task A_claim_whose_snapshot_is_gone_is_destroyed_unless_a_create_of_that_name_holds_its_lock()
    {
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        ScriptInventory(
            Ours()
                + ClaimRows("snapshot-1", Dataset + "@snapshot-1", created: now)
                + ClaimRows("snapshot-2", Dataset + "@snapshot-2", created: now)
        );
        Runner
            .OnZfs("get", "-H", "-p", "-o", Columns, "creation," + Markers.SnapshotId, ClaimOf("snapshot-2"))
            .Returns(ClaimRows("snapshot-2", Dataset + "@snapshot-2", created: now));
        Runner
            .OnZfs(
                "get",
                "-H",
                "-p",
                "-o",
                Columns,
                string.Join(',', Core.Volumes.Inventory.Properties),
                Dataset,
                Dataset + "@snapshot-2"
            )
            .Returns(Ours());
        Runner.OnZfs("destroy").Returns();
        using var creating = Locks.TryAcquire(SnapshotNaming.NameLockKey("snapshot-1"));

        await Sweeper.SweepAsync(Ct);

        Assert.Contains(["destroy", "-d", ClaimOf("snapshot-2")], Runner.Argv);
        Assert.DoesNotContain(["destroy", "-d", ClaimOf("snapshot-1")], Runner.Argv);
    }

    [Theory]
    [InlineData("data/k8s/Deleted-1-" + Name, false)]
    [InlineData("data/k8s/Deleted-x-" + Name, true)]
    [InlineData("data/k8s/Deleted-1-Bad", true)]
    [InlineData("data/k8s/Other-1-" + Name, true)]
    public async Task Only_our_own_moved_aside_names_are_destroyed(string dataset, bool kept)
    {
        ScriptInventory(Ours(dataset: dataset, state: Markers.StateDeleted, mounted: false));
        Runner.OnZfs(Reread(dataset)).Returns(Ours(dataset: dataset, state: Markers.StateDeleted, mounted: false));
        Runner.OnZfs("unmount").Returns();
        Runner.OnZfs("destroy").Returns();

        await Sweeper.SweepAsync(Ct);

        Assert.Equal(kept, !Runner.Argv.Any(a => a[0] == "destroy"));
    }

    [Fact]
    public async Task A_kept_volume_whose_name_a_create_is_reusing_right_now_is_left_to_it()
    {
        // The listing says "deleted", but CreateVolume holds the name: it may already have moved
        // the kept dataset aside and made a new volume there.
        ScriptInventory(Ours(state: Markers.StateDeleted, mounted: false));
        using var creating = Locks.TryAcquire(Dataset);

        await Sweeper.SweepAsync(Ct);

        Assert.DoesNotContain(Runner.Argv, a => a[0] is "destroy" or "unmount");
    }

    [Fact]
    public async Task A_kept_volume_that_became_a_new_volume_since_the_listing_is_not_destroyed()
    {
        ScriptInventory(Ours(state: Markers.StateDeleted, mounted: false));
        Runner.OnZfs(Reread(Dataset)).Returns(Ours(state: Markers.StateReady));

        await Sweeper.SweepAsync(Ct);

        Assert.DoesNotContain(Runner.Argv, a => a[0] is "destroy" or "unmount");
    }

    [Fact]
    public async Task A_failing_re_read_is_logged_and_never_thrown()
    {
        ScriptInventory(Ours(state: Markers.StateDeleted, mounted: false));
        Runner.OnZfs(Reread(Dataset)).TimesOut();

        await Sweeper.SweepAsync(Ct);

        Assert.DoesNotContain(Runner.Argv, a => a[0] is "destroy" or "unmount");
    }

    [Fact]
    public async Task A_sweep_that_meets_an_unexpected_error_logs_it_and_never_throws()
    {
        // The delete that runs the sweep already did its work: an unparsable listing must not turn it into an error.
        Runner
            .OnZfs(GetInventory(Parent))
            .Does((_, _) => throw new FormatException("zfs printed something unexpected"));

        await Sweeper.SweepAsync(Ct);

        Assert.Equal([GetInventory(Parent)], Runner.Argv);
    }
}
