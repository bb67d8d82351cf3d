using ZfsCsi.Bootstrap;
using ZfsCsi.Core.Options;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Tests.Bootstrap;

public sealed class BootstrapOptionsTests
{
    [Fact]
    public void Watch_with_a_pool_and_import_dirs_parses()
    {
        var o = BootstrapOptions.Parse([
            "watch",
            "--pool",
            "data",
            "--import-dir",
            "/dev/disk/by-id",
            "--import-dir=/var/tmp/x",
            "--interval",
            "5",
            "--module",
            "none",
        ]);
        Assert.Equal(BootstrapCommand.Watch, o.Command);
        Assert.Equal(["/dev/disk/by-id", "/var/tmp/x"], o.ImportDirectories);
        Assert.Equal(TimeSpan.FromSeconds(5), o.Interval);
        Assert.Equal(ModuleMode.None, o.Module);
    }

    [Fact]
    public void The_seed_sidecar_flags_parse_check_only_and_no_import()
    {
        var o = BootstrapOptions.Parse([
            "watch",
            "--pool=data",
            "--module=kernel",
            "--no-rebuild",
            "--no-import",
            "--mount-lock-timeout=60",
        ]);
        Assert.True(o.NoRebuild);
        Assert.False(o.Import);
        Assert.Equal(TimeSpan.FromSeconds(60), o.MountLockTimeout);
        Assert.Equal(ImportMount.None, o.ImportMount);
        var under = BootstrapOptions.Parse(["watch", "--pool=data", "--import-mount=/data"]);
        Assert.Equal((ImportMount.Under, "/data"), (under.ImportMount, under.MountUnder));
    }

    [Theory]
    [InlineData("--import-mount", "data")]
    [InlineData("--import-mount", "/data/../home")]
    [InlineData("--mount-lock-timeout", "0")]
    [InlineData("--pool", "data/k8s")]
    [InlineData("--pool", "-f")]
    [InlineData("--import-dir", "relative/dir")]
    [InlineData("--module", "dkms")]
    [InlineData("--jobs", "0")]
    [InlineData("--interval", "soon")]
    [InlineData("--bogus", "1")]
    public void Bad_flags_are_refused_before_anything_runs(string flag, string value) =>
        Assert.Throws<OptionsException>(() => BootstrapOptions.Parse(["once", "--pool", "data", flag, value]));

    [Fact]
    public void The_driver_takes_the_bootstrap_and_health_flags()
    {
        var o = DriverOptions.Parse([
            "--mode",
            "controller",
            "--bootstrap-status-file",
            "/run/zfs-csi/bootstrap.json",
            "--health-port",
            "9808",
            "--health-address",
            "0.0.0.0",
            "--bootstrap-stale-after",
            "30",
        ]);
        Assert.Equal("/run/zfs-csi/bootstrap.json", o.BootstrapStatusFile);
        Assert.Equal(9808, o.HealthPort);
        Assert.Equal("0.0.0.0", o.HealthAddress);
        Assert.Equal(TimeSpan.FromSeconds(30), o.BootstrapStaleAfter);
    }

    [Theory]
    [InlineData("--health-port", "70000")]
    [InlineData("--health-port", "-1")]
    [InlineData("--health-address", "localhost:80")]
    [InlineData("--bootstrap-status-file", "relative.json")]
    [InlineData("--bootstrap-stale-after", "0")]
    public void The_driver_refuses_bad_bootstrap_and_health_flags(string flag, string value) =>
        Assert.Throws<OptionsException>(() => DriverOptions.Parse(["--mode", "controller", flag, value]));
}
