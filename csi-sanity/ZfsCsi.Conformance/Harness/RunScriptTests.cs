using ZfsCsi.Conformance.Infrastructure;

namespace ZfsCsi.Conformance.Harness;

/// <summary>
/// csi-sanity/run, the harness that runs the real csi-sanity, cannot run it here (no csi-sanity
/// binary or Go toolchain on this machine), so its whole set-up is run instead: pool, driver,
/// emulated node, parameter files, the exact csi-sanity command, and the clean-up. A harness that
/// has rotted fails here rather than on the first machine that has csi-sanity.
/// </summary>
public sealed class RunScriptTests
{
    [Fact]
    public async Task The_harness_sets_everything_up_prints_the_csi_sanity_command_and_leaves_nothing()
    {
        var result = await Shell.RunAsync(
            Path.Combine(RepoLayout.Root, "csi-sanity", "run"),
            ["--setup-only"],
            TimeSpan.FromMinutes(5)
        );
        var output = result.StandardOutput + result.StandardError;

        Assert.True(result.ExitCode == 0, $"csi-sanity/run --setup-only exited {result.ExitCode}:\n{output}");
        var command = Assert.Single(output.Split('\n'), l => l.Contains("would run:", StringComparison.Ordinal));
        foreach (
            var flag in new[]
            {
                "--csi.endpoint unix://",
                "--csi.controllerendpoint unix://",
                "--csi.mountdir ",
                "--csi.stagingdir ",
                "--csi.testvolumeparameters ",
                "--csi.testsnapshotparameters ",
                "--csi.testvolumeexpandsize ",
            }
        )
        {
            Assert.Contains(flag, command, StringComparison.Ordinal);
        }
        var pools = await Shell.RunAsync("zpool", ["list", "-H", "-o", "name"]);
        Assert.DoesNotContain(pools.StandardOutput.Split('\n'), p =>
            p.StartsWith("zcsanrun", StringComparison.Ordinal)
        );
        Assert.Empty(Directory.Exists("/run/zfs-csi-lab") ? Directory.GetDirectories("/run/zfs-csi-lab", "sn*") : []);
    }
}
