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
    public void An_existing_bind_matches_only_with_the_same_access_and_flags_after_inherited_ones()
    {
        var inherited = MountFlags.FromMountOptions(new HashSet<string> { "rw", "nosuid", "nodev", "relatime" });
        var wanted = MountFlags.Parse(["noexec"], readOnly: true);
        Assert.True(wanted.Matches(new HashSet<string> { "ro", "nosuid", "nodev", "noexec", "relatime" }, inherited));
        Assert.False(wanted.Matches(new HashSet<string> { "rw", "nosuid", "nodev", "noexec", "relatime" }, inherited));
        Assert.False(wanted.Matches(new HashSet<string> { "ro", "nosuid", "nodev", "relatime" }, inherited));
        Assert.False(MountFlags.None.Matches(new HashSet<string> { "rw", "nosuid", "nodev", "noexec" }, inherited));
    }
}
