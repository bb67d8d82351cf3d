using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Snapshots;

public sealed class InventoryTests
{
    // What zfs-fuse printed for a volume, one CSI snapshot, one deferred, one of sanoid's, a hidden clone source.
    private const string Output =
        "data/k8s/pvc-1\tzfs-csi:name\tcHZjLTE\tlocal\n"
        + "data/k8s/pvc-1@snapshot-1\tzfs-csi:name\tc25hcA\tlocal\n"
        + "data/k8s/pvc-1@snapshot-1\tdefer_destroy\toff\t-\n"
        + "data/k8s/pvc-1@snapshot-2\tzfs-csi:name\tc25hcDI\tlocal\n"
        + "data/k8s/pvc-1@snapshot-2\tdefer_destroy\ton\t-\n"
        + "data/k8s/pvc-1@autosnap_2026\tzfs-csi:name\tcHZjLTE\tinherited from data/k8s/pvc-1\n"
        + "data/k8s/pvc-1@autosnap_2026\tdefer_destroy\toff\t-\n"
        + "data/k8s/pvc-1@Clone-pvc-2\tzfs-csi:state\thidden\tlocal\n"
        + "data/k8s/pvc-1@Clone-pvc-2\tdefer_destroy\toff\t-\n";

    private static DatasetProperties Row(string name) =>
        ZfsParser.GroupByDataset(ZfsParser.ParseGet(Output)).Single(r => r.Name == name);

    [Fact]
    public void A_snapshot_with_its_own_marker_is_a_live_csi_snapshot() =>
        Assert.True(Inventory.IsLiveCsiSnapshot(Row("data/k8s/pvc-1@snapshot-1")));

    [Fact]
    public void A_deferred_destroyed_snapshot_is_never_live() =>
        Assert.False(Inventory.IsLiveCsiSnapshot(Row("data/k8s/pvc-1@snapshot-2")));

    [Fact]
    public void A_snapshot_that_only_inherits_the_volume_marker_is_foreign()
    {
        Assert.False(Inventory.IsOurSnapshot(Row("data/k8s/pvc-1@autosnap_2026")));
        Assert.False(Inventory.IsLiveCsiSnapshot(Row("data/k8s/pvc-1@autosnap_2026")));
    }

    [Fact]
    public void A_hidden_clone_source_is_ours_but_never_listed()
    {
        Assert.True(Inventory.IsHidden(Row("data/k8s/pvc-1@Clone-pvc-2")));
        Assert.False(Inventory.IsLiveCsiSnapshot(Row("data/k8s/pvc-1@Clone-pvc-2")));
    }

    [Fact]
    public void Snapshots_are_grouped_by_their_dataset() =>
        Assert.Equal(
            4,
            Inventory.SnapshotsByDataset(ZfsParser.GroupByDataset(ZfsParser.ParseGet(Output)))["data/k8s/pvc-1"].Count()
        );
}
