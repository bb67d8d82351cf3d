using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Mount;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// The node's /data on the model kernel: alive when mounted and answering statvfs within the
/// deadline; when the node owns the SSHFS mount, a missing or disconnected one (ENOTCONN: sshfs is
/// gone) is detached and mounted again, and a link that is merely down is left to sshfs's reconnect
/// for as long as that can take (<see cref="SshfsOptions.ReconnectGrace"/>), then mounted again too.
/// </summary>
public sealed class DataRootTests : IDisposable
{
    private NodeWorld _world = NodeWorld.OverSshfs();

    public void Dispose() => _world.Dispose();

    private FakeKernel Kernel => _world.Kernel;

    [Fact]
    public async Task A_data_root_that_is_mounted_and_answers_is_alive_and_says_what_it_is()
    {
        var state = await _world.DataRoot.ProbeAsync();

        Assert.True(state.Alive);
        Assert.Equal($"/data (fuse.sshfs {NodeWorld.SshfsSource}) answers", state.Reason);
        Assert.Equal(_world.Pool.Device, state.Mount!.Device);
    }

    [Fact]
    public async Task A_data_root_that_is_not_mounted_is_dead()
    {
        Kernel.Detach(NodeWorld.Data);

        var state = await _world.DataRoot.ProbeAsync();

        Assert.Equal((false, "/data is not mounted", false), (state.Alive, state.Reason, state.Disconnected));
    }

    [Theory]
    [InlineData(Errno.ENOTCONN, true)]
    [InlineData(Errno.EIO, false)]
    public async Task A_data_root_whose_sshfs_fails_is_dead_and_disconnected_only_when_sshfs_is_gone(
        int errno,
        bool disconnected
    )
    {
        Kernel.Kill(_world.Pool, errno);

        var state = await _world.DataRoot.ProbeAsync();

        Assert.False(state.Alive);
        Assert.Equal(disconnected, state.Disconnected);
        Assert.Contains(Errno.Describe(errno), state.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_root_whose_link_is_down_is_dead_within_the_deadline()
    {
        _world.ShortDeadline();
        using var down = Kernel.Hang(_world.Pool);

        var state = await _world.DataRoot.ProbeAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(state.Alive);
        Assert.Contains("statvfs /data did not answer within", state.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disconnected_sshfs_mount_the_node_owns_is_detached_and_mounted_again()
    {
        Owned();
        Kernel.Kill(_world.Pool);
        var sshfs = _world
            .Runner.On("sshfs")
            .Does(
                (_, _) =>
                {
                    _world.MountPoolOverSshfs();
                    return Task.FromResult(new CommandResult(0, "", "", TimeSpan.FromMilliseconds(1)));
                }
            );

        var state = await _world.DataRoot.RequireAliveAsync(CancellationToken.None);

        Assert.True(state.Alive);
        Assert.Equal(1, _world.DataRoot.Remounts);
        Assert.Equal(SshfsArgs.Mount(_world.Node.Sshfs!, NodeWorld.Data), Assert.Single(_world.Runner.Commands));
        Assert.Contains(
            new KernelCall("umount2", NodeWorld.Data, (ulong)(Native.MntDetach | Native.UmountNofollow)),
            Kernel.Calls
        );
        Assert.Single(_world.MountsAt(NodeWorld.Data));
        Assert.Equal(1, sshfs.Count);
    }

    [Fact]
    public async Task A_missing_sshfs_mount_the_node_owns_is_made()
    {
        Owned();
        Kernel.Detach(NodeWorld.Data);
        _world
            .Runner.On("sshfs")
            .Does(
                (_, _) =>
                {
                    _world.MountPoolOverSshfs();
                    return Task.FromResult(new CommandResult(0, "", "", TimeSpan.FromMilliseconds(1)));
                }
            );

        var state = await _world.DataRoot.EnsureMountedAsync(wait: false, CancellationToken.None);

        Assert.True(state.Alive);
        Assert.Contains(new KernelCall("mkdir -p", NodeWorld.Data, 0), Kernel.Calls);
        Assert.DoesNotContain(Kernel.Calls, c => c.Call == "umount2");
    }

    [Fact]
    public async Task A_link_that_is_down_is_left_to_sshfs_to_reconnect_and_the_call_fails_fast()
    {
        Owned();
        Kernel.Kill(_world.Pool, Errno.EIO);

        var e = await Assert.ThrowsAsync<DeadMountException>(() =>
            _world.DataRoot.RequireAliveAsync(CancellationToken.None)
        );

        Assert.StartsWith(
            "the node's data root is unavailable: /data (fuse.sshfs",
            e.Message,
            StringComparison.Ordinal
        );
        Assert.Empty(_world.Runner.Calls);
        Assert.DoesNotContain(Kernel.Calls, c => c.Call == "umount2");
    }

    [Fact]
    public async Task A_mount_answering_errors_past_the_grace_is_mounted_again_once_trial_logins_answer_a_grace_apart()
    {
        Owned();
        Kernel.Kill(_world.Pool, Errno.EIO);
        var sshfs = RemountSucceeds();
        Assert.False((await CheckAfterAsync(TimeSpan.Zero)).Alive);
        Assert.False((await CheckAfterAsync(Grace - TimeSpan.FromSeconds(1))).Alive);
        Assert.Equal(0, sshfs.Count);

        // The first trial answers: the host serves, and sshfs gets one grace more.
        Assert.False((await CheckAfterAsync(TimeSpan.FromSeconds(1))).Alive);
        Assert.Equal((1, 1, 0), (sshfs.Count, _trials, _world.DataRoot.Remounts));
        Assert.Empty(_world.MountsAt(_world.DataRoot.FreshLoginPath));
        Assert.False((await CheckAfterAsync(Grace - TimeSpan.FromSeconds(1))).Alive);
        Assert.Equal(1, sshfs.Count);

        var state = await CheckAfterAsync(TimeSpan.FromSeconds(1));

        Assert.True(state.Alive);
        Assert.Equal((3, 2, 1), (sshfs.Count, _trials, _world.DataRoot.Remounts));
        Assert.Contains(
            new KernelCall("umount2", NodeWorld.Data, (ulong)(Native.MntDetach | Native.UmountNofollow)),
            Kernel.Calls
        );
        Assert.Single(_world.MountsAt(NodeWorld.Data));
        Assert.Empty(_world.MountsAt(_world.DataRoot.FreshLoginPath));
        Assert.Contains(_world.Log.Rendered, m =>
            m.Contains("has been dead for 22 s", StringComparison.Ordinal)
            && m.Contains("trial logins beside it answered for 11 s", StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task A_mount_whose_host_fails_the_trial_login_too_is_left_to_sshfs_and_tried_again_a_grace_later()
    {
        Owned();
        var old = _world.Pool;
        Kernel.Kill(old, Errno.EIO);
        var sshfs = _world
            .Runner.On("sshfs")
            .Fails("ssh: connect to host storage-host port 22: Connection refused\n")
            .Does(SshfsMounts());
        await _world.DataRoot.ProbeAsync();

        var state = await CheckAfterAsync(Grace);
        await CheckAfterAsync(Grace - TimeSpan.FromSeconds(1));

        Assert.False(state.Alive);
        Assert.Equal(1, sshfs.Count);
        Assert.Equal(old.Device, _world.TopAt(NodeWorld.Data)!.Device);
        Assert.DoesNotContain(Kernel.Calls, c =>
            c.Call == "write" || (c.Call == "umount2" && c.Path == NodeWorld.Data)
        );
        Assert.Contains(_world.Log.Rendered, m =>
            m.Contains("a trial login beside it fails too", StringComparison.Ordinal)
            && m.Contains("Connection refused", StringComparison.Ordinal)
        );

        // The host serves again, sshfs's reconnect stays stuck: answered twice a grace apart, it is replaced.
        Assert.False((await CheckAfterAsync(TimeSpan.FromSeconds(1))).Alive);
        Assert.True((await CheckAfterAsync(Grace)).Alive);
        Assert.Equal(2, _trials);
        Assert.NotEqual(old.Device, _world.TopAt(NodeWorld.Data)!.Device);
    }

    [Fact]
    public async Task A_mount_sshfs_brings_back_while_the_second_trial_runs_is_left_alone()
    {
        Owned();
        var old = _world.Pool;
        Kernel.Kill(old, Errno.EIO);
        var calls = 0;
        _world
            .Runner.On("sshfs")
            .Does(
                (command, _) =>
                {
                    Kernel.Mount(command.Arguments[^1], "fuse.sshfs", NodeWorld.SshfsSource);
                    if (++calls == 2)
                    {
                        Kernel.Kill(old, 0); // sshfs's own reconnect succeeds meanwhile
                    }
                    return Task.FromResult(new CommandResult(0, "", "", TimeSpan.FromMilliseconds(1)));
                }
            );
        await _world.DataRoot.ProbeAsync();
        await CheckAfterAsync(Grace);

        var state = await CheckAfterAsync(Grace);

        Assert.True(state.Alive);
        Assert.Equal(2, calls);
        Assert.Equal(old.Device, _world.TopAt(NodeWorld.Data)!.Device);
        Assert.Equal(0, _world.DataRoot.Remounts);
        Assert.DoesNotContain(new KernelCall("write", FuseControl.AbortFile(old.Device)!, 0), Kernel.Calls);
    }

    [Fact]
    public async Task A_mount_that_does_not_answer_at_all_gets_the_hung_grace_not_the_reconnect_grace()
    {
        Owned();
        _world.ShortDeadline();
        var sshfs = RemountSucceeds();
        using var down = Kernel.Hang(_world.Pool);
        await _world.DataRoot.ProbeAsync();

        await CheckAfterAsync(Grace * 2);

        Assert.Equal(0, sshfs.Count);
        Assert.Equal(TimeSpan.FromSeconds(300), _world.Node.Sshfs!.HungGrace);
    }

    [Fact]
    public async Task A_data_root_stuck_past_its_grace_has_its_fuse_connection_aborted_so_calls_waiting_on_it_fail_at_once()
    {
        Owned();
        _world.ShortDeadline();
        _world.AddVolume("pvc-1");
        var target = NodeWorld.Target("u1");
        await _world.PublishAsync("pvc-1", target);
        var old = _world.Pool;
        using var down = Kernel.Hang(old);
        // A pod's call on its bind, waiting on an sshfs that never answers.
        var waiting = Task.Factory.StartNew(
            () => Kernel.Statvfs(target, out _),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default
        );
        var sshfs = RemountSucceeds(then: () => _world.AddVolume("pvc-1"));
        Assert.False((await CheckAfterAsync(TimeSpan.Zero)).Alive);
        Assert.False((await CheckAfterAsync(_world.Node.Sshfs!.HungGrace)).Alive);

        var state = await CheckAfterAsync(Grace);

        Assert.True(state.Alive);
        Assert.Equal((3, 2), (sshfs.Count, _trials));
        Assert.Equal(Errno.ENOTCONN, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(new KernelCall("write", FuseControl.AbortFile(old.Device)!, 0), Kernel.Calls);
        Assert.Contains(Kernel.MountCalls, c => c.Path == FuseControl.MountPoint);
        // The stale bind is the publish's to replace, as after a killed sshfs.
        await _world.PublishAsync("pvc-1", target);
        Assert.Equal(_world.Pool.Device, Assert.Single(_world.MountsAt(target)).Device);
    }

    [Fact]
    public async Task A_fuse_connection_that_cannot_be_aborted_is_still_detached_and_mounted_again_with_a_warning()
    {
        Owned();
        Kernel.Kill(_world.Pool, Errno.EIO);
        Kernel.Fail("mount", FuseControl.MountPoint, Errno.EPERM);
        var sshfs = RemountSucceeds();
        await _world.DataRoot.ProbeAsync();
        await CheckAfterAsync(Grace);

        var state = await CheckAfterAsync(Grace);

        Assert.True(state.Alive);
        Assert.Equal((3, 2), (sshfs.Count, _trials));
        Assert.Contains(_world.Log.Rendered, m =>
            m.StartsWith("Cannot abort the FUSE connection", StringComparison.Ordinal)
            && m.Contains("EPERM", StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task A_fresh_login_trial_that_hangs_is_aborted_and_detached_and_the_stuck_mount_left_to_sshfs()
    {
        Owned();
        _world.ShortDeadline();
        var old = _world.Pool;
        Kernel.Kill(old, Errno.EIO);
        FakeFilesystem? trial = null;
        IDisposable? hung = null;
        _world
            .Runner.On("sshfs")
            .Does(
                (command, _) =>
                {
                    trial = Kernel.Mount(command.Arguments[^1], "fuse.sshfs", NodeWorld.SshfsSource);
                    hung = Kernel.Hang(trial);
                    return Task.FromResult(new CommandResult(0, "", "", TimeSpan.FromMilliseconds(1)));
                }
            );
        await _world.DataRoot.ProbeAsync();

        var state = await CheckAfterAsync(Grace);
        hung?.Dispose();

        Assert.False(state.Alive);
        Assert.Equal(old.Device, _world.TopAt(NodeWorld.Data)!.Device);
        Assert.Empty(_world.MountsAt(_world.DataRoot.FreshLoginPath));
        Assert.Contains(new KernelCall("write", FuseControl.AbortFile(trial!.Device)!, 0), Kernel.Calls);
        Assert.DoesNotContain(new KernelCall("write", FuseControl.AbortFile(old.Device)!, 0), Kernel.Calls);
    }

    [Theory]
    [InlineData("/data", "/.data.zfs-csi-check")]
    [InlineData("/run/lab/wakko/data/", "/run/lab/wakko/.data.zfs-csi-check")]
    public void The_fresh_login_trial_is_a_hidden_sibling_of_the_data_root(string dataRoot, string trial)
    {
        var options = new NodeOptions { DataRoot = dataRoot };

        Assert.Equal(trial, new DataRoot(options, _world.Runner, Kernel, _world.Log.CreateLogger()).FreshLoginPath);
    }

    [Theory]
    [InlineData("0:53", "/sys/fs/fuse/connections/53/abort")]
    [InlineData("0:1048575", "/sys/fs/fuse/connections/1048575/abort")]
    [InlineData("1:2", "/sys/fs/fuse/connections/1048578/abort")]
    [InlineData("0:", null)]
    [InlineData(":5", null)]
    [InlineData("0:-1", null)]
    [InlineData("0:1048576", null)]
    [InlineData("4096:0", null)]
    [InlineData("0:5/../../x", null)]
    public void A_fuse_connection_is_named_by_the_kernels_device_number_and_nothing_else_names_a_file(
        string device,
        string? abortFile
    ) => Assert.Equal(abortFile, FuseControl.AbortFile(device));

    [Fact]
    public async Task A_publish_on_a_mount_stuck_past_its_grace_fails_fast_and_leaves_it_to_the_supervisor()
    {
        Owned();
        Kernel.Kill(_world.Pool, Errno.EIO);
        await _world.DataRoot.ProbeAsync();
        _world.Clock.Now += Grace * 3;

        await Assert.ThrowsAsync<DeadMountException>(() => _world.DataRoot.RequireAliveAsync(CancellationToken.None));

        Assert.Empty(_world.Runner.Calls);
    }

    [Fact]
    public async Task A_link_that_answers_in_between_starts_the_grace_over()
    {
        Owned();
        var sshfs = RemountSucceeds();
        Kernel.Kill(_world.Pool, Errno.EIO);
        await _world.DataRoot.ProbeAsync();
        _world.Clock.Now += Grace - TimeSpan.FromSeconds(1);
        Kernel.Kill(_world.Pool, 0);
        Assert.True((await _world.DataRoot.ProbeAsync()).Alive);
        Kernel.Kill(_world.Pool, Errno.EIO);
        await _world.DataRoot.ProbeAsync();

        var state = await CheckAfterAsync(TimeSpan.FromSeconds(2));

        Assert.False(state.Alive);
        Assert.Equal(0, sshfs.Count);
    }

    [Fact]
    public void The_reconnect_grace_is_what_ssh_needs_to_find_a_silent_link_dead_and_log_in_once()
    {
        var o = new SshfsOptions
        {
            ServerAliveInterval = 5,
            ServerAliveCountMax = 6,
            ConnectTimeout = 30,
        };

        Assert.Equal(TimeSpan.FromSeconds(60), o.ReconnectGrace);
        Assert.Equal(TimeSpan.FromSeconds(11), new SshfsOptions().ReconnectGrace);
    }

    private TimeSpan Grace => _world.Node.Sshfs!.ReconnectGrace;

    /// <summary>The supervisor's check, <paramref name="later"/> after the last one.</summary>
    private Task<DataRootState> CheckAfterAsync(TimeSpan later)
    {
        _world.Clock.Now += later;
        return _world.DataRoot.EnsureMountedAsync(wait: true, CancellationToken.None);
    }

    [Fact]
    public async Task A_dead_sshfs_mount_that_cannot_be_detached_is_reported_with_the_command_that_would()
    {
        Owned();
        Kernel.Kill(_world.Pool);
        Kernel.Fail("umount2", NodeWorld.Data, Errno.EPERM);

        var state = await _world.DataRoot.EnsureMountedAsync(wait: false, CancellationToken.None);

        Assert.False(state.Alive);
        Assert.Equal(
            "/data is a dead SSHFS mount that cannot be detached; run 'umount -l /data' on the node",
            state.Reason
        );
        Assert.Empty(_world.Runner.Calls);
    }

    [Fact]
    public async Task A_failing_sshfs_is_dead_with_what_sshfs_said()
    {
        Owned();
        Kernel.Detach(NodeWorld.Data);
        _world.Runner.On("sshfs").Fails("read: Connection reset by peer\n");

        var state = await _world.DataRoot.EnsureMountedAsync(wait: false, CancellationToken.None);

        Assert.False(state.Alive);
        Assert.Equal($"sshfs {NodeWorld.SshfsSource} /data failed: read: Connection reset by peer", state.Reason);
        Assert.Equal(0, _world.DataRoot.Remounts);
    }

    [Fact]
    public async Task A_mount_sshfs_has_put_in_place_but_not_finished_is_not_alive_until_sshfs_succeeds()
    {
        Owned();
        Kernel.Detach(NodeWorld.Data);
        DataRootState? whileMounting = null;
        _world
            .Runner.On("sshfs")
            .Does(
                async (_, _) =>
                {
                    // sshfs mounts before its ssh has logged in, and answers statvfs itself meanwhile.
                    _world.MountPoolOverSshfs();
                    whileMounting = await _world.DataRoot.ProbeAsync();
                    Kernel.Detach(NodeWorld.Data);
                    return new CommandResult(1, "", "read: Connection reset by peer\n", TimeSpan.FromMilliseconds(10));
                }
            );

        var state = await _world.DataRoot.EnsureMountedAsync(wait: false, CancellationToken.None);

        Assert.Equal(
            (false, "/data is being mounted over SSHFS right now"),
            (whileMounting!.Alive, whileMounting.Reason)
        );
        Assert.False(state.Alive);
        Assert.False((await _world.DataRoot.ProbeAsync()).Alive);
    }

    [Fact]
    public async Task A_publish_on_a_node_whose_own_sshfs_died_mounts_it_again_and_replaces_the_stale_bind()
    {
        Owned();
        _world.AddVolume("pvc-1");
        var target = NodeWorld.Target("u1");
        await _world.PublishAsync("pvc-1", target);
        Kernel.Kill(_world.Pool);
        _world
            .Runner.On("sshfs")
            .Does(
                (_, _) =>
                {
                    _world.MountPoolOverSshfs();
                    _world.AddVolume("pvc-1");
                    return Task.FromResult(new CommandResult(0, "", "", TimeSpan.FromMilliseconds(1)));
                }
            );

        await _world.PublishAsync("pvc-1", target);

        var bind = Assert.Single(_world.MountsAt(target));
        Assert.Equal(_world.Pool.Device, bind.Device);
        Assert.Equal(1, _world.DataRoot.Remounts);
    }

    /// <summary>sshfs mounts the pool root again (and runs <paramref name="then"/>).
    /// The trial mount beside a stuck one (<see cref="DataRoot.FreshLoginPath"/>) succeeds too, and is counted in <see cref="_trials"/>.</summary>
    private ScriptedCommand RemountSucceeds(Action? then = null) => _world.Runner.On("sshfs").Does(SshfsMounts(then));

    private Func<CommandLine, TimeSpan, Task<CommandResult>> SshfsMounts(Action? then = null) =>
        (command, _) =>
        {
            if (command.Arguments[^1] == _world.DataRoot.FreshLoginPath)
            {
                _trials++;
                Kernel.Mount(command.Arguments[^1], "fuse.sshfs", NodeWorld.SshfsSource);
            }
            else
            {
                _world.MountPoolOverSshfs();
                then?.Invoke();
            }
            return Task.FromResult(new CommandResult(0, "", "", TimeSpan.FromMilliseconds(1)));
        };

    private int _trials;

    /// <summary>This node mounts /data itself (--sshfs-remote).</summary>
    private void Owned()
    {
        _world.Dispose();
        _world = NodeWorld.OverSshfs(ownSshfs: true);
    }
}
