using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

/// <summary>
/// A CreateVolume of a name whose deleted volume is retained for its snapshots: the retained
/// dataset is moved aside (one serialized zfs rename) and a new volume made; its snapshots are
/// found where it went under the ids the CO knows.
/// </summary>
public sealed class VolumeManagerRetireTests : VolumeManagerHarness
{
    private const string Parent = "data/k8s";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
    private static readonly string Moved = $"{Parent}/Deleted-1700000000123-{Name}";

    private readonly FixedClock _clock = new(Now);

    private VolumeManager Retiring => ManagerWith(clock: _clock);

    private static string[] GetInventoryNamed(params string[] names) =>
        ["get", "-H", "-p", "-o", Columns, string.Join(',', Inventory.Properties), .. names];

    private static string[] GetChildStates() => ["get", "-H", "-p", "-d", "1", "-o", Columns, Markers.State, Parent];

    [Fact]
    public void A_moved_aside_leaf_keeps_the_volume_leaf_and_is_never_a_volume_id()
    {
        var leaf = SnapshotNaming.RetiredLeaf(Name, Now);

        Assert.Equal($"Deleted-1700000000123-{Name}", leaf);
        Assert.Equal(Name, VolumeManager.OriginalLeaf(leaf));
        Assert.False(VolumeNaming.IsPlain(leaf));
        Assert.Null(Manager.ParseId($"{Parent}/{leaf}"));
        Assert.Equal(Dataset, Manager.CsiVolumeOf($"{Parent}/{leaf}")?.Value);
        Assert.Equal(Dataset, Manager.CsiVolumeOf(Dataset)?.Value);
        Assert.True(leaf.Length <= 22 + VolumeNaming.MaxPlainLength);
    }

    [Theory]
    [InlineData("Deleted-" + Name)]
    [InlineData("Deleted--" + Name)]
    [InlineData("Deleted-12x-" + Name)]
    [InlineData("Deleted-1-")]
    [InlineData("Deleted-1-Upper")]
    [InlineData("deleted-1-" + Name)]
    [InlineData(Name)]
    public void Other_leaves_are_not_moved_aside_volumes(string leaf)
    {
        Assert.Null(VolumeManager.OriginalLeaf(leaf));
    }

    [Theory]
    [InlineData("data/other/Deleted-1-" + Name)]
    [InlineData("data/k8s/Deleted-1-" + Name + "/child")]
    [InlineData("data/k8s")]
    public void Only_direct_children_of_the_parent_map_back_to_a_volume_id(string dataset)
    {
        Assert.Null(Manager.CsiVolumeOf(dataset));
    }

    [Fact]
    public async Task Creating_a_name_whose_deleted_volume_is_retained_moves_it_aside_then_creates_afresh()
    {
        Runner
            .OnZfs(GetVolume(Dataset))
            .Returns(Ours(state: Markers.StateDeleted, refreservation: GiB, mounted: false))
            .Returns(Ours(state: Markers.StateCreating));
        Runner.OnZfs("unmount").Fails($"cannot unmount '{Dataset}': not currently mounted\n");
        Runner.OnZfs("set").Returns();
        Runner
            .OnZfs(GetInventory(Dataset))
            .Returns(
                Ours(state: Markers.StateDeleted, mounted: false)
                    + Row(Dataset + "@snapshot-1", Markers.CsiName, Markers.EncodeName("snapshot-1"), "local")
                    + Row(Dataset + "@snapshot-1", "creation", "100", "-")
            );
        Runner.OnZfs("rollback").Returns();
        Runner.OnZfs("rename").Returns();
        // zfs rename unmounts the clones of the renamed dataset and mounts them again; zfs-fuse has
        // left one unmounted: it is mounted again, the already mounted one is left alone.
        Runner
            .OnZfs(GetChildren())
            .Returns(
                VolumeRows("data/k8s/pvc-clone", "pvc-clone", mounted: false)
                    + VolumeRows("data/k8s/pvc-other", "pvc-other", mounted: true)
            );
        Runner.OnZfs("mount").Returns();
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZfs("create").Returns();

        var volume = await Retiring.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct);

        Assert.Equal(Dataset, volume.Id.Value);
        Assert.Equal(
            [
                GetVolume(Dataset),
                ["unmount", Dataset],
                ["set", "canmount=off", Dataset],
                ["set", "refreservation=none", Dataset],
                GetInventory(Dataset),
                ["rollback", Dataset + "@snapshot-1"],
                ["rename", Dataset, Moved],
                GetChildren(),
                ["mount", "data/k8s/pvc-clone"],
                GetCapacity(),
            ],
            Runner.Argv.Take(10)
        );
        Assert.Single(Runner.Argv, a => a[0] == "create");
        Assert.Equal(["set", "zfs-csi:state=ready", Dataset], Runner.Argv[^1]);
    }

    [Fact]
    public async Task A_retained_volume_that_zfs_cannot_rename_keeps_the_name_taken_with_the_reason_and_nothing_is_created()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(state: Markers.StateDeleted, mounted: false));
        Runner.OnZfs("unmount").Fails($"cannot unmount '{Dataset}': not currently mounted\n");
        Runner.OnZfs("set").Returns();
        Runner.OnZfs(GetInventory(Dataset)).Returns(Ours(state: Markers.StateDeleted, mounted: false));
        Runner.OnZfs("rename").Fails($"cannot rename '{Dataset}': dataset is busy\n");

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            Retiring.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );

        Assert.Contains("clone", e.Message);
        Assert.Contains("dataset is busy", e.Message);
        Assert.Equal(Options.BusyAttempts, Runner.Argv.Count(a => a[0] == "rename"));
        Assert.DoesNotContain(Runner.Argv, a => a[0] == "create");
    }

    [Fact]
    public async Task A_deleted_volume_of_another_name_is_never_moved()
    {
        Runner
            .OnZfs(GetVolume(Dataset))
            .Returns(Ours(name: "someone-else", state: Markers.StateDeleted, mounted: false));

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            Retiring.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );

        Assert.Contains("another volume name", e.Message);
        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
    }

    [Fact]
    public async Task A_snapshot_id_whose_volume_was_moved_aside_is_found_where_it_went()
    {
        var id = SnapshotId.TryParse($"{Dataset}@snapshot-1", ZfsCsi.Core.Zfs.DatasetName.Parse(Parent))!.Value;
        var movedSnapshot = $"{Moved}@snapshot-1";
        Runner.OnZfs(GetInventoryNamed(Dataset, id.Value)).Fails(DoesNotExist(id.Value));
        Runner.OnZfs(GetName(Parent)).Returns(Row(Parent, "name", Parent, "-"));
        Runner
            .OnZfs(GetChildStates())
            .Returns(
                Row(Parent, Markers.State, "-", "-")
                    + Row(Dataset, Markers.State, Markers.StateReady, "local")
                    + Row(Moved, Markers.State, Markers.StateDeleted, "local")
                    + Row($"{Parent}/Deleted-1-pvc-other", Markers.State, Markers.StateDeleted, "local")
            );
        Runner
            .OnZfs(GetInventoryNamed(Moved, movedSnapshot))
            .Returns(
                Ours(dataset: Moved, state: Markers.StateDeleted, mounted: false)
                    + Row(movedSnapshot, Markers.CsiName, Markers.EncodeName("snapshot-1"), "local")
                    + Row(movedSnapshot, "defer_destroy", "off", "-")
            );

        var rows = await Manager.FindSnapshotRowsAsync(id, Ct);

        Assert.NotNull(rows);
        Assert.Equal([Moved, movedSnapshot], rows.Select(r => r.Name));
        Assert.Equal(
            [
                GetInventoryNamed(Dataset, id.Value),
                GetName(Parent),
                GetChildStates(),
                GetInventoryNamed(Moved, movedSnapshot),
            ],
            Runner.Argv
        );
    }

    [Fact]
    public async Task A_live_snapshot_at_its_own_name_needs_no_other_lookup()
    {
        var id = SnapshotId.TryParse($"{Dataset}@snapshot-1", ZfsCsi.Core.Zfs.DatasetName.Parse(Parent))!.Value;
        Runner
            .OnZfs(GetInventoryNamed(Dataset, id.Value))
            .Returns(
                Ours()
                    + Row(id.Value, Markers.CsiName, Markers.EncodeName("snapshot-1"), "local")
                    + Row(id.Value, "defer_destroy", "off", "-")
            );

        var rows = await Manager.FindSnapshotRowsAsync(id, Ct);

        Assert.Equal([Dataset, id.Value], rows!.Select(r => r.Name));
        Assert.Single(Runner.Argv);
    }
}
