using ZfsCsi.Core.Options;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Tests.Driver.Options;

public sealed class DriverOptionsTests
{
    private static OptionsException Refused(params string[] args) =>
        Assert.Throws<OptionsException>(() => DriverOptions.Parse(args));

    [Fact]
    public void Defaults_need_only_a_node_id()
    {
        var o = DriverOptions.Parse(["--nodeid", "alice"]);

        Assert.Equal("unix:///csi/csi.sock", o.Endpoint);
        Assert.Equal("/csi/csi.sock", o.SocketPath);
        Assert.Equal("alice", o.NodeId);
        Assert.Equal(DriverMode.Both, o.Mode);
        Assert.Equal(DriverOptions.DefaultDriverName, o.DriverName);
        Assert.Equal("text", o.LogFormat);
        Assert.Equal("data/k8s", o.Volumes.ParentDataset);
        Assert.Equal("zfs", o.Zfs.ZfsCommand);
        Assert.Equal("zpool", o.Zfs.ZpoolCommand);
        Assert.Equal(TimeSpan.FromSeconds(30), o.Zfs.CommandTimeout);
        Assert.Equal("/run/lock/zfs-csi-mount.lock", o.Zfs.MountLockFile);
    }

    [Fact]
    public void Every_flag_is_read_in_both_spellings()
    {
        var o = DriverOptions.Parse([
            "--endpoint=unix:///var/lib/kubelet/plugins/zfs.csi.dev/csi.sock",
            "--node-id",
            "bob",
            "--mode=controller",
            "--driver-name",
            "zfs.example.org",
            "--parent-dataset=tank/k8s",
            "--zfs",
            "/sbin/zfs",
            "--zpool=/sbin/zpool",
            "--zfs-timeout",
            "2.5",
            "--mount-lock-file=",
            "--log-format",
            "json",
        ]);

        Assert.Equal("/var/lib/kubelet/plugins/zfs.csi.dev/csi.sock", o.SocketPath);
        Assert.Equal("bob", o.NodeId);
        Assert.Equal(DriverMode.Controller, o.Mode);
        Assert.Equal("zfs.example.org", o.DriverName);
        Assert.Equal("tank/k8s", o.Volumes.ParentDataset);
        Assert.Equal("/sbin/zfs", o.Zfs.ZfsCommand);
        Assert.Equal("/sbin/zpool", o.Zfs.ZpoolCommand);
        Assert.Equal(TimeSpan.FromSeconds(2.5), o.Zfs.CommandTimeout);
        Assert.Equal("", o.Zfs.MountLockFile);
        Assert.Equal("json", o.LogFormat);
    }

    [Theory]
    [InlineData("unix:///csi/csi.sock", "/csi/csi.sock")]
    [InlineData("unix:/csi/csi.sock", "/csi/csi.sock")]
    [InlineData("unix:///tmp/a=b.sock", "/tmp/a=b.sock")]
    public void Unix_endpoints_with_an_absolute_path_are_accepted(string endpoint, string socket)
    {
        Assert.Equal(socket, DriverOptions.Parse(["--mode", "controller", "--endpoint", endpoint]).SocketPath);
        Assert.Equal(socket, DriverOptions.Parse(["--mode", "controller", $"--endpoint={endpoint}"]).SocketPath);
    }

    [Theory]
    [InlineData("/csi/csi.sock")]
    [InlineData("unix://csi.sock")]
    [InlineData("unix:csi.sock")]
    [InlineData("unix:")]
    [InlineData("unix://")]
    [InlineData("tcp://127.0.0.1:10000")]
    [InlineData("")]
    public void Other_endpoints_are_refused(string endpoint)
    {
        var e = Refused("--mode", "controller", "--endpoint", endpoint);
        Assert.Contains("--endpoint", e.Message);
    }

    [Theory]
    [InlineData("--verbose", "1")]
    [InlineData("--nodeId", "alice")]
    [InlineData("--v=5")]
    [InlineData("--=x")]
    public void An_unknown_flag_is_refused_by_name(params string[] args)
    {
        var e = Refused(["--mode", "controller", .. args]);
        Assert.Contains("unknown flag", e.Message);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("-nodeid")]
    [InlineData("--nodeid")]
    public void A_stray_argument_or_a_flag_without_value_is_refused(string arg)
    {
        Refused("--mode", "controller", arg);
    }

    [Theory]
    [InlineData("controller", DriverMode.Controller)]
    [InlineData("node", DriverMode.Node)]
    [InlineData("both", DriverMode.Both)]
    [InlineData("Controller", DriverMode.Controller)]
    [InlineData("NODE", DriverMode.Node)]
    public void Mode_values_are_read_case_insensitively(string value, DriverMode mode)
    {
        Assert.Equal(mode, DriverOptions.Parse(["--nodeid", "alice", "--mode", value]).Mode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("2")]
    [InlineData("-1")]
    [InlineData(" 1")]
    [InlineData("all")]
    [InlineData("controller,node")]
    [InlineData("Both,Node")]
    [InlineData("node,")]
    public void Other_mode_values_are_refused(string value)
    {
        var e = Refused("--nodeid", "alice", "--mode", value);
        Assert.Contains("--mode", e.Message);
    }

    [Theory]
    [InlineData("node")]
    [InlineData("both")]
    public void The_node_plugin_needs_a_node_id(string mode)
    {
        Assert.Contains("--nodeid", Refused("--mode", mode).Message);
        Assert.Contains("--nodeid", Refused("--mode", mode, "--nodeid", " ").Message);
        Assert.Contains("--nodeid", Refused("--mode", mode, "--nodeid=").Message);
    }

    [Fact]
    public void The_controller_alone_needs_no_node_id()
    {
        Assert.Equal("", DriverOptions.Parse(["--mode", "controller"]).NodeId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Zfs.csi.dev")]
    [InlineData("zfs_csi")]
    [InlineData("-zfs.csi.dev")]
    [InlineData("zfs.csi.dev.")]
    [InlineData("zfs csi")]
    [InlineData("zfs/csi")]
    [InlineData("z\u00e9fs.csi.dev")]
    public void A_bad_driver_name_is_refused(string name)
    {
        Assert.Contains("--driver-name", Refused("--mode", "controller", "--driver-name", name).Message);
    }

    [Fact]
    public void A_driver_name_of_63_characters_is_accepted_and_64_refused()
    {
        DriverOptions.Parse(["--mode", "controller", "--driver-name", new string('z', 63)]);
        Refused("--mode", "controller", "--driver-name", new string('z', 64));
    }

    [Theory]
    [InlineData("")]
    [InlineData("data/")]
    [InlineData("/data/k8s")]
    [InlineData("data/../k8s")]
    [InlineData("data/-k8s")]
    [InlineData("data/k8s@snap")]
    [InlineData("data/k 8s")]
    public void A_bad_parent_dataset_is_refused(string parent)
    {
        Assert.Contains("--parent-dataset", Refused("--mode", "controller", "--parent-dataset", parent).Message);
    }

    [Fact]
    public void A_parent_of_max_parent_length_is_accepted_and_one_byte_longer_refused()
    {
        var at = "data/" + new string('k', VolumeOptions.MaxParentLength - 5);

        Assert.Equal(64, VolumeOptions.MaxParentLength);
        DriverOptions.Parse(["--mode", "controller", "--parent-dataset", at]);
        var e = Refused("--mode", "controller", "--parent-dataset", at + "k");
        Assert.Contains("128", e.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e300")]
    [InlineData("1e-9")]
    [InlineData("30s")]
    [InlineData("3000000")]
    public void A_bad_zfs_timeout_is_refused_with_a_message(string value)
    {
        // Not an OverflowException from TimeSpan, and nothing CancelAfter would refuse later on every command.
        Assert.Contains("--zfs-timeout", Refused("--mode", "controller", "--zfs-timeout", value).Message);
    }

    [Theory]
    [InlineData("0.5", 500)]
    [InlineData("30", 30_000)]
    [InlineData("86400", 86_400_000)]
    public void A_sane_zfs_timeout_is_accepted(string value, long milliseconds)
    {
        Assert.Equal(
            TimeSpan.FromMilliseconds(milliseconds),
            DriverOptions.Parse(["--mode", "controller", "--zfs-timeout", value]).Zfs.CommandTimeout
        );
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public void Text_and_json_logs_are_accepted(string format)
    {
        Assert.Equal(format, DriverOptions.Parse(["--mode", "controller", "--log-format", format]).LogFormat);
    }

    [Theory]
    [InlineData("JSON")]
    [InlineData("logfmt")]
    [InlineData("")]
    public void Other_log_formats_are_refused(string format)
    {
        Assert.Contains("--log-format", Refused("--mode", "controller", "--log-format", format).Message);
    }

    [Fact]
    public void The_usage_names_every_flag_the_parser_knows()
    {
        foreach (
            var flag in new[]
            {
                "--endpoint",
                "--nodeid",
                "--mode",
                "--driver-name",
                "--parent-dataset",
                "--zfs ",
                "--zpool",
                "--zfs-timeout",
                "--mount-lock-file",
                "--log-format",
            }
        )
        {
            Assert.Contains(flag, DriverOptions.Usage);
        }
    }
}
