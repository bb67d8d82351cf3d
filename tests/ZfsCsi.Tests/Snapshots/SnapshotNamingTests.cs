using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Snapshots;

public sealed class SnapshotNamingTests
{
    private static readonly DatasetName Parent = DatasetName.Parse("data/k8s");
    private static readonly VolumeId Volume = new(DatasetName.Parse("data/k8s/pvc-1"));

    [Fact]
    public void A_kubernetes_snapshot_name_is_kept_as_the_leaf() =>
        Assert.Equal("snapshot-0b7c1d2e", SnapshotNaming.LeafFor("snapshot-0b7c1d2e", Volume));

    [Theory]
    [InlineData("Snap")]
    [InlineData("a/../b")]
    [InlineData("-r")]
    [InlineData("g-looks-like-a-group")]
    [InlineData("x\ty")]
    public void Any_other_name_becomes_a_digest_the_same_every_time(string name)
    {
        var leaf = SnapshotNaming.LeafFor(name, Volume);
        Assert.Matches("^h-[0-9a-f]{32}$", leaf);
        Assert.Equal(leaf, SnapshotNaming.LeafFor(name, Volume));
    }

    [Fact]
    public void The_id_always_fits_128_bytes_even_for_a_long_volume_id()
    {
        var longVolume = new VolumeId(DatasetName.Parse("data/k8s/" + new string('v', 63)));
        var id = new SnapshotId(longVolume, SnapshotNaming.LeafFor("snapshot-" + new string('s', 50), longVolume));
        Assert.True(id.Value.Length <= SnapshotId.MaxLength);
        Assert.Equal(id, SnapshotId.TryParse(id.Value, Parent));
    }

    [Fact]
    public void A_volume_id_too_long_for_any_snapshot_id_is_a_failed_precondition()
    {
        var parent = new string('p', 64);
        var longest = new VolumeId(DatasetName.Parse(parent + "/" + new string('v', 63)));
        Assert.Throws<FailedPreconditionException>(() => SnapshotNaming.LeafFor("snapshot-1", longest));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void An_empty_name_is_invalid(string? name) =>
        Assert.Throws<InvalidInputException>(() => SnapshotNaming.LeafFor(name!, Volume));

    [Fact]
    public void A_name_over_128_bytes_is_invalid() =>
        Assert.Throws<InvalidInputException>(() => SnapshotNaming.LeafFor(new string('é', 65), Volume));

    [Theory]
    [InlineData("data/k8s/pvc-1@snapshot-1", true)]
    [InlineData("data/k8s/pvc-1@h-0123456789abcdef0123456789abcdef", true)]
    [InlineData("data/k8s/pvc-1", false)]
    [InlineData("data/k8s/pvc-1@", false)]
    [InlineData("data/k8s/pvc-1@a@b", false)]
    [InlineData("data/k8s/pvc-1@Clone-pvc-2", false)]
    [InlineData("data/k8s/pvc-1@Tmp-g-1", false)]
    [InlineData("data/other/pvc-1@snapshot-1", false)]
    [InlineData("data/k8s/a/b@snapshot-1", false)]
    [InlineData("data/k8s@snapshot-1", false)]
    [InlineData("data/k8s/../x@s", false)]
    public void Only_ids_of_our_volumes_with_our_leaves_parse(string id, bool ours) =>
        Assert.Equal(ours, SnapshotId.TryParse(id, Parent) is not null);

    [Fact]
    public void Internal_leaves_can_never_be_produced_for_a_csi_name()
    {
        Assert.False(SnapshotNaming.IsListable(SnapshotNaming.CloneSourceLeaf("pvc-2")));
        Assert.False(SnapshotNaming.IsListable(SnapshotNaming.GroupTemporaryLeaf(SnapshotNaming.GroupLeafFor("g"))));
        Assert.False(SnapshotNaming.IsListable(SnapshotNaming.RetiredLeaf("snapshot-1", DateTimeOffset.UnixEpoch)));
        Assert.True(SnapshotNaming.IsListable(SnapshotNaming.GroupLeafFor("groupsnapshot-1")));
        Assert.Equal("pvc-2", SnapshotNaming.CloneTargetLeaf(SnapshotNaming.CloneSourceLeaf("pvc-2")));
    }
}
