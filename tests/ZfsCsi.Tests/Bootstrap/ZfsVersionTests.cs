using ZfsCsi.Core.Bootstrap;

namespace ZfsCsi.Tests.Bootstrap;

public sealed class ZfsVersionTests
{
    [Fact]
    public void The_userland_line_of_zfs_version_is_read_and_the_kmod_line_ignored() =>
        Assert.Equal("2.2.2-0ubuntu9", ZfsVersion.ParseUserland("zfs-kmod-2.1.5-1\nzfs-2.2.2-0ubuntu9\n"));

    [Fact]
    public void Zfs_fuse_usage_text_has_no_userland_version() =>
        Assert.Null(ZfsVersion.ParseUserland("unrecognized command 'version'\nusage: zfs command args ...\n"));

    [Theory]
    [InlineData("2.2.2-1", "2.2.2-0ubuntu9~22.04", true)]
    [InlineData("2.2.2-1", "2.2.3-1", false)]
    [InlineData("2.1.5", "2.1.15", false)]
    [InlineData("v2.0.1", "2.0.1-1", true)]
    public void Only_the_upstream_release_decides_a_match(string a, string b, bool same) =>
        Assert.Equal(same, ZfsVersion.SameRelease(a, b));
}
