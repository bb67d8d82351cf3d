using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// NodeUnpublishVolume on the model kernel: whatever is mounted at the target is unmounted and the
/// directory removed (CSI spec: "The SP MUST delete the file or directory it created at this
/// path"); a target that is not mounted, or gone, is OK; a retry after any partial failure
/// converges; a dead mount is detached lazily; nothing outside the kubelet directory is touched.
/// </summary>
public sealed class NodeVolumesUnpublishTests : IDisposable
{
    private static readonly string Target = NodeWorld.Target("u1");
    private readonly NodeWorld _world = NodeWorld.OverSshfs();

    public NodeVolumesUnpublishTests() => _world.AddVolume("pvc-1");

    public void Dispose() => _world.Dispose();

    private FakeKernel Kernel => _world.Kernel;

    [Fact]
    public async Task Unpublish_unmounts_the_bind_and_removes_the_target_directory()
    {
        await _world.PublishAsync("pvc-1", Target);

        await _world.UnpublishAsync(Target);

        Assert.Empty(_world.MountsAt(Target));
        Assert.False(Kernel.Exists(Target));
        Assert.True(Kernel.IsDirectory(Target[..Target.LastIndexOf('/')]));
        // The volume itself is untouched.
        Assert.True(Kernel.IsDirectory(NodeWorld.DirectoryOf("pvc-1")));
    }

    [Fact]
    public async Task Unpublish_of_a_target_that_is_not_mounted_is_ok_and_removes_the_directory()
    {
        Kernel.MakeDirectories(Target);

        await _world.UnpublishAsync(Target);

        Assert.False(Kernel.Exists(Target));
        Assert.DoesNotContain(Kernel.Calls, c => c.Call == "umount2");
    }

    [Theory]
    [InlineData("/pods/u1/volumes/kubernetes.io~csi/pv")]
    [InlineData("/pods")]
    [InlineData("")]
    public async Task Unpublish_of_a_target_that_does_not_exist_is_ok(string existing)
    {
        Kernel.MakeDirectories(NodeWorld.Kubelet + existing);

        await _world.UnpublishAsync(Target);

        Assert.False(Kernel.Exists(Target));
    }

    [Fact]
    public async Task Unpublish_unmounts_every_mount_stacked_at_the_target()
    {
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Mount(Target, "tmpfs", "tmpfs", "rw");

        await _world.UnpublishAsync(Target);

        Assert.Empty(_world.MountsAt(Target));
        Assert.False(Kernel.Exists(Target));
    }

    [Fact]
    public async Task Unpublish_retried_after_a_partial_unmount_converges()
    {
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Mount(Target, "tmpfs", "tmpfs", "rw");
        // The top mount goes; the kernel refuses the one below it.
        Kernel.After("umount2", Target, () => Kernel.Fail("umount2", Target, Errno.EPERM));

        var e = await Assert.ThrowsAsync<ZfsCsiException>(() => _world.UnpublishAsync(Target));
        Assert.Equal(ErrorKind.Internal, e.Kind);
        Assert.Equal("/k8s/pvc-1", Assert.Single(_world.MountsAt(Target)).Root);

        await _world.UnpublishAsync(Target);

        Assert.Empty(_world.MountsAt(Target));
        Assert.False(Kernel.Exists(Target));
    }

    [Fact]
    public async Task A_target_busy_for_a_moment_is_unmounted_within_the_same_call()
    {
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Fail("umount2", Target, Errno.EBUSY, times: 3);

        await _world.UnpublishAsync(Target);

        Assert.Empty(_world.MountsAt(Target));
        Assert.DoesNotContain(Kernel.Calls, c => c.Call == "umount2" && (c.Flags & Native.MntDetach) != 0);
    }

    [Fact]
    public async Task A_target_a_process_keeps_using_is_failed_precondition_and_stays_until_it_lets_go()
    {
        await _world.PublishAsync("pvc-1", Target);
        var user = Kernel.Use(Target);

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() => _world.UnpublishAsync(Target));

        Assert.Equal($"{Target} is busy: a process still uses the volume there", e.Message);
        Assert.Single(_world.MountsAt(Target));
        user.Dispose();
        await _world.UnpublishAsync(Target);
        Assert.False(Kernel.Exists(Target));
    }

    [Fact]
    public async Task A_busy_bind_of_a_dead_sshfs_mount_is_detached_lazily()
    {
        await _world.PublishAsync("pvc-1", Target);
        using var user = Kernel.Use(Target);
        Kernel.Kill(_world.Pool);

        await _world.UnpublishAsync(Target);

        Assert.Empty(_world.MountsAt(Target));
        Assert.False(Kernel.Exists(Target));
        Assert.Contains(
            new KernelCall("umount2", Target, (ulong)(Native.MntDetach | Native.UmountNofollow)),
            Kernel.Calls
        );
    }

    [Theory]
    [InlineData(Errno.ENOTCONN)]
    [InlineData(Errno.EIO)]
    [InlineData(Errno.ESTALE)]
    public async Task A_mount_whose_unmount_answers_a_dead_mount_errno_is_detached_lazily(int errno)
    {
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Fail("umount2", Target, errno);

        await _world.UnpublishAsync(Target);

        Assert.Empty(_world.MountsAt(Target));
        Assert.Contains(
            new KernelCall("umount2", Target, (ulong)(Native.MntDetach | Native.UmountNofollow)),
            Kernel.Calls
        );
    }

    [Fact]
    public async Task An_unmount_raced_by_another_one_converges()
    {
        await _world.PublishAsync("pvc-1", Target);
        // EINVAL: not a mount point (any more) when the call got there; the mount table is read again.
        Kernel.Fail("umount2", Target, Errno.EINVAL);

        await _world.UnpublishAsync(Target);

        Assert.Empty(_world.MountsAt(Target));
        Assert.False(Kernel.Exists(Target));
    }

    [Fact]
    public async Task A_file_at_the_target_is_failed_precondition_and_left_in_place()
    {
        Kernel.MakeDirectories(Target[..Target.LastIndexOf('/')]);
        Kernel.WriteFile(Target);

        var e = await Assert.ThrowsAsync<NotADirectoryException>(() => _world.UnpublishAsync(Target));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.True(Kernel.Exists(Target));
    }

    [Fact]
    public async Task A_pod_directory_swapped_for_a_symlink_is_failed_precondition_and_nothing_outside_is_unmounted_or_removed()
    {
        const string outside = "/srv/outside/volumes/kubernetes.io~csi/pv/mount";
        Kernel.MakeDirectories(outside);
        Kernel.Mount(outside, "tmpfs", "tmpfs", "rw");
        Kernel.MakeDirectories(NodeWorld.Kubelet + "/pods");
        Kernel.Symlink(NodeWorld.Kubelet + "/pods/u1", "/srv/outside");

        await Assert.ThrowsAsync<NotADirectoryException>(() => _world.UnpublishAsync(Target));

        Assert.Single(_world.MountsAt(outside));
        Assert.True(Kernel.IsDirectory(outside));
        Assert.DoesNotContain(Kernel.Calls, c => c.Call is "umount2" or "unlinkat");
    }

    [Fact]
    public async Task A_target_directory_that_is_not_empty_under_the_bind_is_left_in_place_and_the_call_is_ok()
    {
        // Something wrote into the bare directory before the bind covered it.
        Kernel.MakeDirectories(Target);
        Kernel.WriteFile(Target + "/left-behind");
        await _world.PublishAsync("pvc-1", Target);

        await _world.UnpublishAsync(Target);

        Assert.Empty(_world.MountsAt(Target));
        Assert.Equal(["left-behind"], Kernel.List(Target));
        Assert.Contains(_world.Log.Rendered, m => m.Contains("ENOTEMPTY", StringComparison.Ordinal));
    }
}
