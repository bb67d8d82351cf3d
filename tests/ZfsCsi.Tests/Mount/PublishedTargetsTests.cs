using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// Where a node has a volume published, from mountinfo alone (what a restarted plugin sees): the
/// targets under the kubelet directory whose top mount is a bind of the volume's directory, current
/// or of a dead SSHFS mount, or the fence left for it; nothing else.
/// </summary>
public sealed class PublishedTargetsTests
{
    private const string Kubelet = "/run/zc/yakko/kubelet";
    private const string Pods = Kubelet + "/pods";

    // A node over SSHFS: /data is sshfs (now 0:43, an earlier instance was 0:41).
    private const string Sshfs = """
        27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
        91 27 0:43 / /run/zc/yakko/data rw,nosuid,nodev,relatime - fuse.sshfs zfs-csi@10.210.124.1:/ rw,user_id=0,group_id=0,allow_other
        95 27 0:43 /k8s/pvc-1 /run/zc/yakko/kubelet/pods/u1/volumes/kubernetes.io~csi/pv/mount rw,relatime - fuse.sshfs zfs-csi@10.210.124.1:/ rw
        96 27 0:41 /k8s/pvc-1 /run/zc/yakko/kubelet/pods/u2/volumes/kubernetes.io~csi/pv/mount rw,relatime - fuse.sshfs zfs-csi@10.210.124.1:/ rw
        97 27 0:43 /k8s/pvc-2 /run/zc/yakko/kubelet/pods/u3/volumes/kubernetes.io~csi/pv/mount rw,relatime - fuse.sshfs zfs-csi@10.210.124.1:/ rw
        98 27 0:43 /k8s/pvc-1/sub /run/zc/yakko/kubelet/pods/u4/volume-subpaths/pv/c/0 rw,relatime - fuse.sshfs zfs-csi@10.210.124.1:/ rw
        99 27 0:60 / /run/zc/yakko/kubelet/pods/u5/volumes/kubernetes.io~csi/pv/mount ro,nosuid,nodev,noexec - tmpfs zfs-csi-fenced:data/k8s/pvc-1 ro,size=4k
        100 27 0:61 / /run/zc/yakko/kubelet/pods/u6/volumes/kubernetes.io~csi/pv/mount ro,nosuid,nodev,noexec - tmpfs zfs-csi-fenced:data/k8s/pvc-2 ro,size=4k
        101 27 0:62 / /run/zc/yakko/kubelet/pods/u7/volumes/kubernetes.io~secret/token rw - tmpfs tmpfs rw
        102 27 0:43 /k8s/pvc-1 /mnt/elsewhere rw,relatime - fuse.sshfs zfs-csi@10.210.124.1:/ rw
        103 27 0:43 /k8s/pvc-1 /run/zc/yakko/kubelet/pods/u8/volumes/kubernetes.io~csi/pv/mount rw,relatime - fuse.sshfs zfs-csi@10.210.124.1:/ rw
        104 103 0:63 / /run/zc/yakko/kubelet/pods/u8/volumes/kubernetes.io~csi/pv/mount rw - tmpfs tmpfs rw
        105 27 0:64 / /run/zc/yakko/kubelet/pods/u9/volumes/kubernetes.io~csi/pv/mount rw - tmpfs tmpfs rw
        106 105 0:43 /k8s/pvc-1 /run/zc/yakko/kubelet/pods/u9/volumes/kubernetes.io~csi/pv/mount rw,relatime - fuse.sshfs zfs-csi@10.210.124.1:/ rw
        """;

    private static IReadOnlyList<string> Of(
        string mountinfo,
        string directory,
        string volumeId,
        string kubelet = Kubelet
    )
    {
        var table = new MountTable(MountInfoParser.Parse(mountinfo));
        return PublishedTargets.Of(table, table.SourceOf(directory)!, volumeId, kubelet);
    }

    private static string Target(string pod) => $"{Pods}/{pod}/volumes/kubernetes.io~csi/pv/mount";

    [Fact]
    public void Over_sshfs_current_and_stale_binds_and_the_volumes_own_fence_are_its_targets()
    {
        var targets = Of(Sshfs, "/run/zc/yakko/data/k8s/pvc-1", "data/k8s/pvc-1");

        Assert.Equal([Target("u1"), Target("u2"), Target("u5"), Target("u9")], targets);
    }

    [Fact]
    public void Another_volumes_binds_and_fences_subpaths_mounts_outside_kubelet_and_covered_binds_are_not()
    {
        var targets = Of(Sshfs, "/run/zc/yakko/data/k8s/pvc-1", "data/k8s/pvc-1");

        Assert.DoesNotContain(Target("u3"), targets);
        Assert.DoesNotContain(Target("u6"), targets);
        Assert.DoesNotContain(Target("u8"), targets);
        Assert.DoesNotContain(targets, t =>
            t.Contains("volume-subpaths", StringComparison.Ordinal) || t.Contains("secret", StringComparison.Ordinal)
        );
        Assert.DoesNotContain("/mnt/elsewhere", targets);
    }

    [Fact]
    public void The_other_volume_has_its_own_bind_and_fence()
    {
        Assert.Equal([Target("u3"), Target("u6")], Of(Sshfs, "/run/zc/yakko/data/k8s/pvc-2", "data/k8s/pvc-2"));
        Assert.Empty(Of(Sshfs, "/run/zc/yakko/data/k8s/pvc-3", "data/k8s/pvc-3"));
    }

    // The storage host: each dataset is its own ZFS mount; a bind of one shows the dataset as source and "/" as root.
    private const string Alice = """
        27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
        42 27 0:39 / /data rw - fuse.zfs data rw
        44 42 0:41 / /data/k8s rw - fuse.zfs data/k8s rw
        45 44 0:42 / /data/k8s/pvc-1 rw - fuse.zfs data/k8s/pvc-1 rw
        46 44 0:44 / /data/k8s/pvc-2 rw - fuse.zfs data/k8s/pvc-2 rw
        50 27 0:42 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv/mount rw - fuse.zfs data/k8s/pvc-1 rw
        51 27 0:44 / /var/lib/kubelet/pods/u2/volumes/kubernetes.io~csi/pv/mount rw - fuse.zfs data/k8s/pvc-2 rw
        52 27 0:41 /pvc-1 /var/lib/kubelet/pods/u3/volumes/kubernetes.io~csi/pv/mount rw - fuse.zfs data/k8s rw
        """;

    [Fact]
    public void On_the_storage_host_binds_of_the_datasets_own_mount_are_its_targets_and_the_dataset_itself_is_not()
    {
        var targets = Of(Alice, "/data/k8s/pvc-1", "data/k8s/pvc-1", "/var/lib/kubelet/");

        Assert.Equal(["/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/pv/mount"], targets);
    }
}
