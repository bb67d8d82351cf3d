using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Mount;

public sealed class SshfsArgsTests
{
    private static SshfsOptions Options() =>
        new()
        {
            Remote = "root@10.1.2.3:/data",
            Port = 2222,
            IdentityFile = "/etc/zfs-csi/id_ed25519",
            KnownHostsFile = "/etc/zfs-csi/known_hosts",
        };

    [Fact]
    public void The_mount_pins_the_host_key_keeps_alive_reconnects_and_allows_other_users()
    {
        var argv = SshfsArgs.Mount(Options(), "/data");
        Assert.Equal("sshfs", argv.Program);
        Assert.Equal(["-p", "2222", "-o"], argv.Arguments.Take(3));
        var options = argv.Arguments[3].Split(',');
        Assert.Contains("reconnect", options);
        Assert.Contains("StrictHostKeyChecking=yes", options);
        Assert.Contains("UserKnownHostsFile=/etc/zfs-csi/known_hosts", options);
        Assert.Contains("IdentityFile=/etc/zfs-csi/id_ed25519", options);
        Assert.Contains("ServerAliveInterval=2", options);
        Assert.Contains("ServerAliveCountMax=3", options);
        Assert.Contains("BatchMode=yes", options);
        Assert.Contains("allow_other", options);
        Assert.Contains("dir_cache=no", options);
        Assert.DoesNotContain(options, o => o.Contains("StrictHostKeyChecking=no", StringComparison.Ordinal));
        Assert.Equal(["root@10.1.2.3:/data", "/data"], argv.Arguments.Skip(4));
    }

    [Theory]
    [InlineData("root@host:/data", null)]
    [InlineData("root@[fd00::1]:/data", null)]
    [InlineData("-oProxyCommand=x@host:/data", "--sshfs-remote")]
    [InlineData("root@host:data", "--sshfs-remote")]
    [InlineData("root@host:/da ta", "--sshfs-remote")]
    [InlineData("root@-host:/data", "--sshfs-remote")]
    [InlineData("host:/data", "--sshfs-remote")]
    public void Remotes_are_checked_so_nothing_reads_as_an_option(string remote, string? problem)
    {
        var o = Options();
        o.Remote = remote;
        if (problem is null)
        {
            Assert.Null(o.Problem());
        }
        else
        {
            Assert.StartsWith(problem, o.Problem());
        }
    }

    [Fact]
    public void Key_paths_with_commas_are_refused_because_sshfs_splits_options_on_them()
    {
        var o = Options();
        o.IdentityFile = "/etc/key,StrictHostKeyChecking=no";
        Assert.StartsWith("--sshfs-identity", o.Problem());
        o = Options();
        o.KnownHostsFile = "known_hosts";
        Assert.StartsWith("--sshfs-known-hosts", o.Problem());
    }
}
