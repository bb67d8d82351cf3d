using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Mount;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// The node's /data on the model kernel: alive when mounted and answering statvfs within the
/// deadline; when the node owns the SSHFS mount, a missing or disconnected one (ENOTCONN: sshfs is
/// gone) is detached and mounted again, and a link that is merely down is left to sshfs's reconnect.
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

    /// <summary>This node mounts /data itself (--sshfs-remote).</summary>
    private void Owned()
    {
        _world.Dispose();
        _world = NodeWorld.OverSshfs(ownSshfs: true);
    }
}
