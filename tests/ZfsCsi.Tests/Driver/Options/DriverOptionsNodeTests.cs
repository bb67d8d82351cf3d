using ZfsCsi.Core.Options;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Tests.Driver.Options;

public sealed class DriverOptionsNodeTests
{
    [Fact]
    public void Node_flags_have_the_documented_defaults()
    {
        var o = DriverOptions.Parse(["--mode", "node", "--nodeid", "yakko"]);
        Assert.Equal("/data", o.Node.DataRoot);
        Assert.Equal("/var/lib/kubelet", o.Node.KubeletDir);
        Assert.Equal(TimeSpan.FromSeconds(2), o.Node.CallTimeout);
        Assert.Null(o.Node.Sshfs);
        Assert.Equal(TimeSpan.FromSeconds(2), o.Node.BindCheckInterval);
    }

    [Fact]
    public void The_bind_check_interval_is_configurable_down_to_a_tenth_of_a_second()
    {
        Assert.Equal(
            TimeSpan.FromMilliseconds(250),
            DriverOptions
                .Parse(["--mode", "node", "--nodeid", "n", "--bind-check-interval", "0.25"])
                .Node.BindCheckInterval
        );
    }

    [Fact]
    public void Sshfs_flags_configure_the_data_root_mount()
    {
        var o = DriverOptions.Parse([
            "--mode",
            "node",
            "--nodeid",
            "yakko",
            "--data-root",
            "/mnt/data",
            "--kubelet-dir",
            "/k",
            "--sshfs-remote",
            "root@alice:/data",
            "--sshfs-port",
            "2222",
            "--sshfs-identity",
            "/etc/k",
            "--sshfs-known-hosts",
            "/etc/kh",
            "--sshfs-check-interval",
            "1",
            "--fs-timeout",
            "1.5",
        ]);
        Assert.Equal("root@alice:/data", o.Node.Sshfs!.Remote);
        Assert.Equal(2222, o.Node.Sshfs.Port);
        Assert.Equal(TimeSpan.FromSeconds(1.5), o.Node.CallTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), o.Node.CheckInterval);
    }

    [Fact]
    public void The_ssh_timeouts_of_the_mount_are_configurable_for_a_slow_storage_host()
    {
        var o = DriverOptions.Parse([
            "--mode",
            "node",
            "--nodeid",
            "yakko",
            "--sshfs-remote",
            "root@alice:/data",
            "--sshfs-identity",
            "/etc/k",
            "--sshfs-known-hosts",
            "/etc/kh",
            "--sshfs-connect-timeout",
            "30",
            "--sshfs-alive-interval",
            "5",
            "--sshfs-alive-count",
            "6",
        ]);
        var argv = string.Join(' ', ZfsCsi.Core.Mount.SshfsArgs.Mount(o.Node.Sshfs!, "/mnt/data").Arguments);
        Assert.Contains("ConnectTimeout=30", argv, StringComparison.Ordinal);
        Assert.Contains("ServerAliveInterval=5", argv, StringComparison.Ordinal);
        Assert.Contains("ServerAliveCountMax=6", argv, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(40), o.Node.Sshfs!.MountTimeout);
    }

    [Theory]
    [InlineData("--sshfs-connect-timeout", "0")]
    [InlineData("--sshfs-connect-timeout", "2.5")]
    [InlineData("--sshfs-alive-interval", "601")]
    [InlineData("--sshfs-alive-count", "-1")]
    [InlineData("--data-root", "data")]
    [InlineData("--data-root", "/data/../etc")]
    [InlineData("--kubelet-dir", "/")]
    [InlineData("--fs-timeout", "0")]
    [InlineData("--sshfs-port", "x")]
    [InlineData("--bind-check-interval", "0")]
    [InlineData("--bind-check-interval", "0.05")]
    [InlineData("--bind-check-interval", "61")]
    [InlineData("--bind-check-interval", "soon")]
    public void Bad_node_flags_stop_start_up_with_a_message(string flag, string value)
    {
        var e = Assert.Throws<OptionsException>(() =>
            DriverOptions.Parse(["--mode", "node", "--nodeid", "n", flag, value])
        );
        Assert.Contains(flag, e.Message);
    }

    [Fact]
    public void Sshfs_without_a_pinned_known_hosts_file_stops_start_up()
    {
        var e = Assert.Throws<OptionsException>(() =>
            DriverOptions.Parse([
                "--mode",
                "node",
                "--nodeid",
                "n",
                "--sshfs-remote",
                "root@alice:/data",
                "--sshfs-identity",
                "/etc/k",
            ])
        );
        Assert.Contains("--sshfs-known-hosts", e.Message);
    }
}
