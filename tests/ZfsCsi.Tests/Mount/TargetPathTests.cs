using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Mount;

public sealed class TargetPathTests
{
    private const string Kubelet = "/var/lib/kubelet";

    [Fact]
    public void A_kubelet_target_is_accepted_and_a_trailing_slash_dropped()
    {
        const string target = "/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/pv/mount";
        Assert.Equal(target, TargetPath.Check(target, Kubelet, "target_path"));
        Assert.Equal(target, TargetPath.Check(target + "/", Kubelet, "target_path"));
    }

    [Theory]
    [InlineData("relative/mount", "not an absolute path")]
    [InlineData("/etc", "outside the kubelet directory")]
    [InlineData("/var/lib/kubelet", "outside the kubelet directory")]
    [InlineData("/var/lib/kubeletx/pods", "outside the kubelet directory")]
    [InlineData("/var/lib/kubelet/../../etc", "not canonical")]
    [InlineData("/var/lib/kubelet/pods/./x", "not canonical")]
    [InlineData("/var/lib/kubelet//pods", "not canonical")]
    [InlineData("/var/lib/kubelet/pods/x\n", "control characters")]
    [InlineData("", "is required")]
    public void Paths_that_escape_or_are_not_canonical_are_invalid_input(string path, string why)
    {
        var e = Assert.Throws<InvalidInputException>(() => TargetPath.Check(path, Kubelet, "target_path"));
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void A_too_long_path_is_invalid_input()
    {
        Assert.Throws<InvalidInputException>(() =>
            TargetPath.Check(Kubelet + "/" + new string('a', 5000), Kubelet, "target_path")
        );
    }

    [Theory]
    [InlineData("some/path")]
    [InlineData("/etc")]
    [InlineData("/var/lib/kubelet/../etc")]
    [InlineData("")]
    public void TryCheck_answers_null_for_any_path_check_refuses(string path)
    {
        Assert.Null(TargetPath.TryCheck(path, Kubelet));
    }

    [Fact]
    public void The_components_below_the_kubelet_directory_are_what_the_fd_walk_descends()
    {
        Assert.Equal(["pods", "u", "mount"], TargetPath.Below("/var/lib/kubelet/pods/u/mount", Kubelet + "/"));
    }
}
