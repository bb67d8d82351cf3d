using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Mount;

public sealed class MountInfoParserTests
{
    // Captured on the emulated cluster (yakko's namespace) and on alice, plus a path with a space.
    private const string Captured = """
        27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
        42 27 0:39 / /tmp/zfs-csi-tests/zcsit1x2 rw,relatime - fuse.zfs zcsit1x2 rw,user_id=0,group_id=0,default_permissions,allow_other
        43 42 0:40 / /tmp/zfs-csi-tests/zcsit1x2/k8s rw,relatime shared:7 master:3 - fuse.zfs zcsit1x2/k8s rw,user_id=0,group_id=0,default_permissions,allow_other
        91 54 0:43 / /run/zfs-csi-lab/zc1/yakko/data rw,nosuid,nodev,relatime - fuse.sshfs root@10.210.124.1:/tmp/zfs-csi-tests/zcsit1x2 rw,user_id=0,group_id=0,allow_other
        95 60 0:43 /k8s/pvc-1 /run/zfs-csi-lab/zc1/yakko/kubelet/pods/u1/volumes/kubernetes.io~csi/pv/mount ro,nosuid,nodev,noexec,relatime - fuse.sshfs root@10.210.124.1:/tmp/zfs-csi-tests/zcsit1x2 rw,user_id=0,group_id=0,allow_other
        96 27 0:50 / /mnt/with\040space\011tab\134back rw - tmpfs my\040tmp rw
        garbage line
        """;

    [Fact]
    public void Every_well_formed_line_is_parsed_and_garbage_is_skipped()
    {
        var entries = MountInfoParser.Parse(Captured);
        Assert.Equal(6, entries.Count);
    }

    [Fact]
    public void An_sshfs_bind_keeps_its_root_inside_the_filesystem_and_its_per_mount_flags()
    {
        var bind = MountInfoParser.Parse(Captured).Single(e => e.Id == 95);
        Assert.Equal("/k8s/pvc-1", bind.Root);
        Assert.Equal("0:43", bind.Device);
        Assert.True(bind.IsSshfs);
        Assert.True(bind.ReadOnly);
        Assert.Contains("noexec", bind.MountOptions);
        Assert.Equal("root@10.210.124.1:/tmp/zfs-csi-tests/zcsit1x2", bind.Source);
        Assert.Contains("allow_other", bind.SuperOptions);
    }

    [Fact]
    public void Optional_fields_before_the_separator_do_not_shift_the_filesystem_type()
    {
        var zfs = MountInfoParser.Parse(Captured).Single(e => e.Id == 43);
        Assert.Equal("fuse.zfs", zfs.FsType);
        Assert.Equal("zcsit1x2/k8s", zfs.Source);
        Assert.True(zfs.IsZfs);
        Assert.False(zfs.ReadOnly);
    }

    [Fact]
    public void Octal_escapes_in_paths_and_sources_are_decoded()
    {
        var odd = MountInfoParser.Parse(Captured).Single(e => e.Id == 96);
        Assert.Equal("/mnt/with space\ttab\\back", odd.MountPoint);
        Assert.Equal("my tmp", odd.Source);
    }

    [Fact]
    public void The_source_of_a_directory_is_its_mounts_filesystem_and_the_path_inside_it()
    {
        var table = new MountTable(MountInfoParser.Parse(Captured));
        var source = table.SourceOf("/run/zfs-csi-lab/zc1/yakko/data/k8s/pvc-1")!;
        Assert.Equal(91, source.Mount.Id);
        Assert.Equal("/k8s/pvc-1", source.Root);
        var bind = table.At("/run/zfs-csi-lab/zc1/yakko/kubelet/pods/u1/volumes/kubernetes.io~csi/pv/mount").Single();
        Assert.True(source.IsCurrentBind(bind));
        Assert.False(table.SourceOf("/run/zfs-csi-lab/zc1/yakko/data/k8s/pvc-2")!.IsBindOfSameDirectory(bind));
    }

    [Fact]
    public void A_bind_from_an_earlier_sshfs_instance_is_the_same_directory_but_not_current()
    {
        var stale = Captured.Replace("95 60 0:43", "95 60 0:41", StringComparison.Ordinal);
        var table = new MountTable(MountInfoParser.Parse(stale));
        var source = table.SourceOf("/run/zfs-csi-lab/zc1/yakko/data/k8s/pvc-1")!;
        var bind = table.Entries.Single(e => e.Id == 95);
        Assert.True(source.IsBindOfSameDirectory(bind));
        Assert.False(source.IsCurrentBind(bind));
    }

    [Fact]
    public void The_containing_mount_is_the_longest_prefix_on_a_path_boundary()
    {
        var table = new MountTable(MountInfoParser.Parse(Captured));
        Assert.Equal(43, table.Containing("/tmp/zfs-csi-tests/zcsit1x2/k8s/v")!.Id);
        Assert.Equal(42, table.Containing("/tmp/zfs-csi-tests/zcsit1x2/k8sx")!.Id);
        Assert.Equal(27, table.Containing("/etc")!.Id);
    }
}
