using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Snapshots;

public sealed class SnapshotArgsTests
{
    private static readonly DatasetName Volume = DatasetName.Parse("data/k8s/pvc-1");
    private static readonly SnapshotName Snap = SnapshotName.Of(Volume, "snapshot-1");

    [Fact]
    public void A_snapshot_carries_its_markers_in_the_same_command() =>
        Assert.Equal(
            ["snapshot", "-o", "zfs-csi:name=bg", "-o", "zfs-csi:capacity=8", "data/k8s/pvc-1@snapshot-1"],
            ZfsArgs.Snapshot(Snap, [new("zfs-csi:name", "bg"), new("zfs-csi:capacity", "8")])
        );

    [Fact]
    public void A_group_takes_several_names_in_one_command_or_the_parent_recursively()
    {
        var other = SnapshotName.Of(DatasetName.Parse("data/k8s/pvc-2"), "g-1");
        Assert.Equal(
            ["snapshot", "-o", "zfs-csi:group=x", "data/k8s/pvc-1@snapshot-1", "data/k8s/pvc-2@g-1"],
            ZfsArgs.SnapshotMany([Snap, other], [new("zfs-csi:group", "x")])
        );
        Assert.Equal(
            ["snapshot", "-r", "-o", "zfs-csi:group=x", "data/k8s@Tmp-g-1"],
            ZfsArgs.SnapshotRecursive(
                SnapshotName.Of(DatasetName.Parse("data/k8s"), "Tmp-g-1"),
                [new("zfs-csi:group", "x")]
            )
        );
    }

    [Fact]
    public void Clone_destroy_and_rename_use_plain_flags_both_implementations_accept()
    {
        Assert.Equal(
            ["clone", "-o", "refquota=8", "data/k8s/pvc-1@snapshot-1", "data/k8s/pvc-3"],
            ZfsArgs.Clone(Snap, DatasetName.Parse("data/k8s/pvc-3"), [new("refquota", "8")])
        );
        Assert.Equal(["destroy", "-d", "data/k8s/pvc-1@snapshot-1"], ZfsArgs.DestroySnapshotDeferred(Snap));
        Assert.Equal(["destroy", "-r", "data/k8s/pvc-1"], ZfsArgs.DestroyRecursive(Volume));
        Assert.Equal(
            ["rename", "data/k8s/pvc-1@snapshot-1", "data/k8s/pvc-1@b"],
            ZfsArgs.RenameSnapshot(Snap, SnapshotName.Of(Volume, "b"))
        );
    }

    [Fact]
    public void A_recursive_get_has_no_type_flag_which_zfs_fuse_lacks() =>
        Assert.Equal(
            ["get", "-r", "-H", "-p", "-o", "name,property,value,source", "creation,defer_destroy", "data/k8s"],
            ZfsArgs.GetRecursive(["creation", "defer_destroy"], DatasetName.Parse("data/k8s"))
        );

    [Fact]
    public void A_get_to_a_depth_names_the_depth_and_refuses_less_than_one_level()
    {
        Assert.Equal(
            ["get", "-r", "-d", "2", "-H", "-p", "-o", "name,property,value,source", "creation", "data/k8s"],
            ZfsArgs.GetToDepth(["creation"], DatasetName.Parse("data/k8s"), 2)
        );
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ZfsArgs.GetToDepth(["creation"], DatasetName.Parse("data/k8s"), 0)
        );
    }

    [Theory]
    [InlineData("")]
    [InlineData("-r")]
    [InlineData("a@b")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void A_leaf_that_zfs_would_misread_is_refused(string leaf) =>
        Assert.False(SnapshotName.TryCreate(Volume, leaf, out _, out _));
}
