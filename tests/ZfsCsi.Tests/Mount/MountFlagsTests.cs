using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Mount;

public sealed class MountFlagsTests
{
    [Fact]
    public void Per_mount_flags_map_to_their_mount_2_bits()
    {
        var flags = MountFlags.Parse(["noexec", "nosuid,nodev", "noatime"], readOnly: false);
        Assert.Equal(0x8UL | 0x2 | 0x4 | 0x400, flags.Flags);
        Assert.False(flags.ReadOnly);
        Assert.Equal(["noexec", "nosuid", "nodev", "noatime"], flags.Names);
    }

    [Fact]
    public void Readonly_adds_ms_rdonly_and_ro_alone_does_too()
    {
        Assert.True(MountFlags.Parse([], readOnly: true).ReadOnly);
        Assert.True(MountFlags.Parse(["ro"], readOnly: false).ReadOnly);
    }

    [Theory]
    [InlineData("uid=1000")]
    [InlineData("vers=4")]
    [InlineData("exec;rm -rf /")]
    [InlineData("NOEXEC")]
    public void Unknown_flags_are_invalid_input_not_silently_ignored(string flag)
    {
        var e = Assert.Throws<InvalidInputException>(() => MountFlags.Parse([flag], readOnly: false));
        Assert.Contains("not supported", e.Message);
    }

    [Fact]
    public void Rw_contradicting_a_read_only_publish_is_invalid_input()
    {
        Assert.Throws<InvalidInputException>(() => MountFlags.Parse(["rw"], readOnly: true));
        Assert.Throws<InvalidInputException>(() => MountFlags.Parse(["ro", "rw"], readOnly: false));
    }

    [Fact]
    public void An_existing_bind_matches_only_with_the_same_access_and_flags_after_the_sources_ones()
    {
        var source = Options("rw", "nosuid", "nodev", "relatime");
        var wanted = MountFlags.Parse(["noexec"], readOnly: true);
        Assert.True(wanted.Matches(Options("ro", "nosuid", "nodev", "noexec", "relatime"), source));
        Assert.False(wanted.Matches(Options("rw", "nosuid", "nodev", "noexec", "relatime"), source));
        Assert.False(wanted.Matches(Options("ro", "nosuid", "nodev", "relatime"), source));
        Assert.False(MountFlags.None.Matches(Options("rw", "nosuid", "nodev", "noexec", "relatime"), source));
    }

    [Fact]
    public void A_bind_of_a_read_only_source_is_read_only_whatever_was_asked_and_is_remounted_so()
    {
        // A dataset with readonly=on: its own mount (the bind's source on the storage host) is ro.
        var source = Options("ro", "relatime");
        var wanted = MountFlags.Parse(["noexec"], readOnly: false);

        Assert.True(wanted.Matches(Options("ro", "noexec", "relatime"), source));
        Assert.False(wanted.Matches(Options("rw", "noexec", "relatime"), source));
        Assert.True(MountFlags.None.Matches(Options("ro", "relatime"), source));
        Assert.Equal(0x1UL | 0x8, wanted.RemountFlags(source));
    }

    [Theory]
    [InlineData("sync", "MS_SYNCHRONOUS")]
    [InlineData("dirsync", "MS_DIRSYNC")]
    [InlineData("noexec,sync", "MS_SYNCHRONOUS")]
    public void Sync_and_dirsync_are_refused_because_a_bind_remount_cannot_apply_them(string flag, string why)
    {
        var e = Assert.Throws<InvalidInputException>(() => MountFlags.Parse([flag], readOnly: false));
        Assert.Contains(why, e.Message);
        Assert.Contains("per-mount", e.Message);
        Assert.Contains("sync=always", e.Message);
    }

    [Theory]
    [InlineData("noatime", "relatime")]
    [InlineData("strictatime", "noatime")]
    [InlineData("relatime", "strictatime")]
    public void Two_atime_modes_in_one_request_contradict_each_other(string one, string other)
    {
        var e = Assert.Throws<InvalidInputException>(() => MountFlags.Parse([one, other], readOnly: false));
        Assert.Contains("atime mode", e.Message);
    }

    [Fact]
    public void Without_an_atime_flag_the_bind_must_show_the_sources_atime_mode()
    {
        var none = MountFlags.Parse([], readOnly: false);
        Assert.True(none.Matches(Options("rw", "relatime"), Options("rw", "relatime")));
        Assert.False(none.Matches(Options("rw", "noatime"), Options("rw", "relatime")));
        Assert.True(none.Matches(Options("rw", "noatime"), Options("rw", "noatime")));
        // A read-only remount names no atime flag: the kernel keeps the bind's (the source's).
        Assert.True(MountFlags.Parse([], readOnly: true).Matches(Options("ro", "noatime"), Options("rw", "noatime")));
    }

    [Fact]
    public void Relatime_strictatime_and_noatime_publishes_of_one_target_are_told_apart()
    {
        var source = Options("rw", "relatime");
        var shownAsRelatime = Options("rw", "relatime");
        var shownAsNoatime = Options("rw", "noatime");
        var shownAsStrict = Options("rw");
        Assert.True(MountFlags.Parse(["relatime"], false).Matches(shownAsRelatime, source));
        Assert.False(MountFlags.Parse(["strictatime"], false).Matches(shownAsRelatime, source));
        Assert.False(MountFlags.Parse(["noatime"], false).Matches(shownAsRelatime, source));
        Assert.True(MountFlags.Parse(["strictatime"], false).Matches(shownAsStrict, source));
        Assert.False(MountFlags.Parse(["relatime"], false).Matches(shownAsStrict, source));
        Assert.True(MountFlags.Parse(["noatime"], false).Matches(shownAsNoatime, source));
        Assert.False(MountFlags.Parse(["strictatime"], false).Matches(shownAsNoatime, source));
        // nodiratime alone makes the kernel default to relatime, whatever the source had.
        Assert.True(
            MountFlags
                .Parse(["nodiratime"], false)
                .Matches(Options("rw", "relatime", "nodiratime"), Options("rw", "noatime"))
        );
        Assert.False(
            MountFlags
                .Parse(["nodiratime"], false)
                .Matches(Options("rw", "noatime", "nodiratime"), Options("rw", "noatime"))
        );
    }

    [Fact]
    public void The_remount_keeps_the_sources_nosuid_nodev_noexec_and_leaves_atime_to_the_request()
    {
        var source = Options("rw", "nosuid", "nodev", "noatime");
        Assert.Equal(0x1UL | 0x2 | 0x4, MountFlags.Parse([], readOnly: true).RemountFlags(source));
        Assert.Equal(0x200000UL | 0x2 | 0x4, MountFlags.Parse(["relatime"], readOnly: false).RemountFlags(source));
        Assert.False(MountFlags.Parse([], readOnly: false).NeedsRemount);
        Assert.True(MountFlags.Parse(["strictatime"], readOnly: false).NeedsRemount);
    }

    /// <summary>
    /// On alice the volume's directory is the dataset's own ZFS mount, whose options (exec=off,
    /// setuid=off) are not those of /data: the bind keeps the dataset's. Captured shape of alice's mountinfo.
    /// </summary>
    [Fact]
    public void On_alice_the_flags_kept_come_from_the_datasets_own_mount_not_from_the_data_root()
    {
        var table = new MountTable(
            MountInfoParser.Parse(
                """
                27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
                42 27 0:39 / /data rw,relatime - fuse.zfs data rw,allow_other
                43 42 0:40 / /data/k8s rw,relatime - fuse.zfs data/k8s rw,allow_other
                44 43 0:41 / /data/k8s/pvc-1 rw,nosuid,noexec,noatime - fuse.zfs data/k8s/pvc-1 rw,allow_other
                """
            )
        );
        var source = table.SourceOf("/data/k8s/pvc-1")!;
        Assert.Equal("data/k8s/pvc-1", source.Mount.Source);
        var readOnly = MountFlags.Parse([], readOnly: true);
        Assert.Equal(0x1UL | 0x2 | 0x8, readOnly.RemountFlags(source.Mount.MountOptions));
        Assert.True(readOnly.Matches(Options("ro", "nosuid", "noexec", "noatime"), source.Mount.MountOptions));
        // What the data root's options alone would have accepted is a bind without them.
        Assert.False(readOnly.Matches(Options("ro", "relatime"), source.Mount.MountOptions));
    }

    private static HashSet<string> Options(params string[] names) => new(names, StringComparer.Ordinal);
}
