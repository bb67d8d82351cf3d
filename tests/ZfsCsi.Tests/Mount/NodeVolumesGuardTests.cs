using ZfsCsi.Core.Mount;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// The bind guard on the model kernel (<see cref="NodeVolumes.GuardOnceAsync"/>): over SSHFS a
/// published bind whose dataset is no longer mounted on the storage host shows the parent
/// dataset's directory, so it is cut (read-only first, then detached) and covered by the volume's
/// fence; binds of mounted datasets, binds on the storage host (their own ZFS mounts) and targets
/// an RPC is working on are left alone.
/// </summary>
public sealed class NodeVolumesGuardTests : IDisposable
{
    private static readonly string Target = NodeWorld.Target("u1");
    private static readonly ulong CutReadOnly =
        Native.MsRemount | Native.MsBind | Native.MsRdonly | Native.MsNosuid | Native.MsNodev;
    private static readonly ulong Detach = (ulong)(Native.MntDetach | Native.UmountNofollow);
    private NodeWorld _world = NodeWorld.OverSshfs();

    public void Dispose() => _world.Dispose();

    private FakeKernel Kernel => _world.Kernel;

    [Fact]
    public async Task A_bind_whose_dataset_was_unmounted_on_the_storage_host_is_made_read_only_detached_and_fenced()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        var bindCalls = Kernel.Calls.Count;
        _world.UnmountOnStorageHost("pvc-1");

        Assert.Equal([Target], await _world.GuardOnceAsync());

        var fence = Assert.Single(_world.MountsAt(Target));
        Assert.True(Fence.Is(fence));
        Assert.Equal("data/k8s/pvc-1", Fence.VolumeOf(fence));
        Assert.Equal(("tmpfs", true), (fence.FsType, fence.ReadOnly));
        Assert.Superset(new HashSet<string>(["nosuid", "nodev", "noexec"]), new HashSet<string>(fence.MountOptions));
        Assert.Contains("size=4k", fence.SuperOptions);
        var cut = Kernel.Calls.Skip(bindCalls).Where(c => c.Call is "mount" or "umount2").ToList();
        Assert.Equal(
            [
                new KernelCall("mount", Target, CutReadOnly),
                new KernelCall("umount2", Target, Detach),
                new KernelCall("mount", Target, Fence.MountFlags),
            ],
            cut
        );
    }

    [Fact]
    public async Task Binds_whose_datasets_are_mounted_are_left_alone()
    {
        _world.AddVolume("pvc-1");
        _world.AddVolume("pvc-2");
        await _world.PublishAsync("pvc-1", Target);
        await _world.PublishAsync("pvc-2", NodeWorld.Target("u2"));
        var before = Kernel.Calls.Count;

        Assert.Empty(await _world.GuardOnceAsync());

        Assert.DoesNotContain(Kernel.Calls.Skip(before), c => c.Call is "mount" or "umount2");
        Assert.Contains(Kernel.Calls.Skip(before), c => c.Call == "statvfs" && c.Path == Target);
    }

    [Fact]
    public async Task Only_the_bind_of_the_unmounted_dataset_is_cut()
    {
        _world.AddVolume("pvc-1");
        _world.AddVolume("pvc-2");
        await _world.PublishAsync("pvc-1", Target);
        await _world.PublishAsync("pvc-2", NodeWorld.Target("u2"));
        _world.UnmountOnStorageHost("pvc-2");

        Assert.Equal([NodeWorld.Target("u2")], await _world.GuardOnceAsync());

        Assert.Equal("/k8s/pvc-1", _world.TopAt(Target)!.Root);
    }

    [Fact]
    public async Task On_the_storage_host_nothing_is_checked()
    {
        _world.Dispose();
        _world = NodeWorld.OnStorageHost();
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        var before = Kernel.Calls.Count;

        Assert.Empty(await _world.GuardOnceAsync());

        Assert.DoesNotContain(Kernel.Calls.Skip(before), c =>
            c.Call is "mount" or "umount2" || (c.Call == "statvfs" && c.Path != NodeWorld.Data)
        );
    }

    [Fact]
    public async Task Nothing_is_checked_while_the_data_root_is_dead()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        Kernel.Kill(_world.Pool);

        Assert.Empty(await _world.GuardOnceAsync());

        Assert.Equal("/k8s/pvc-1", _world.TopAt(Target)!.Root);
    }

    [Fact]
    public async Task A_target_an_rpc_is_working_on_waits_for_the_next_round()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        var asked = new List<string>();

        Assert.Empty(
            await _world.Volumes.GuardOnceAsync(
                target =>
                {
                    asked.Add(target);
                    return null;
                },
                CancellationToken.None
            )
        );

        Assert.Equal([Target], asked);
        Assert.Equal("/k8s/pvc-1", _world.TopAt(Target)!.Root);
        Assert.Equal([Target], await _world.GuardOnceAsync());
    }

    [Fact]
    public async Task A_bind_replaced_while_its_lock_was_being_taken_is_not_cut_this_round()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        var measured = _world.TopAt(Target)!;

        var fenced = await _world.Volumes.GuardOnceAsync(
            target =>
            {
                // Unpublished and published again between the measurement and the lock.
                Kernel.Detach(target);
                Kernel.Bind(NodeWorld.DirectoryOf("pvc-1"), target);
                return new NoLock();
            },
            CancellationToken.None
        );

        Assert.Empty(fenced);
        var now = _world.TopAt(Target)!;
        Assert.NotEqual(measured.Id, now.Id);
        Assert.False(Fence.Is(now));
    }

    [Fact]
    public async Task A_read_only_remount_the_kernel_refuses_still_cuts_the_bind_and_says_so()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        // A file open for writing: the read-only remount is EBUSY.
        Kernel.Fail("mount", Target, Errno.EBUSY, withFlags: CutReadOnly);

        Assert.Equal([Target], await _world.GuardOnceAsync());

        Assert.True(Fence.Is(Assert.Single(_world.MountsAt(Target))));
        Assert.Contains(_world.Log.Rendered, m =>
            m.Contains(
                "no, EBUSY (busy): files already open for writing can still write until closed",
                StringComparison.Ordinal
            )
        );
    }

    [Fact]
    public async Task A_bind_whose_directory_is_gone_on_the_storage_host_is_not_cut()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Fail("statvfs", Target, Errno.ENOENT);

        Assert.Empty(await _world.GuardOnceAsync());

        Assert.False(Fence.Is(_world.TopAt(Target)!));
    }

    [Fact]
    public async Task A_stale_bind_of_an_sshfs_mount_that_died_is_not_measured()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Kill(_world.Pool);
        Kernel.Detach(NodeWorld.Data);
        _world.MountPoolOverSshfs();
        var before = Kernel.Calls.Count;

        Assert.Empty(await _world.GuardOnceAsync());

        Assert.DoesNotContain(Kernel.Calls.Skip(before), c => c.Path == Target);
    }

    [Fact]
    public async Task The_guard_keeps_running_after_a_round_that_failed_and_cuts_the_bind_in_the_next()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        Kernel.Fail("statvfs", "/data/k8s", Errno.EIO);
        using var stop = new CancellationTokenSource();

        var guard = _world.Volumes.GuardBindsAsync(_ => new NoLock(), stop.Token);
        for (var i = 0; i < 200 && !(_world.TopAt(Target) is { } top && Fence.Is(top)); i++)
        {
            await Task.Delay(25);
        }
        await stop.CancelAsync();
        await guard.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(Fence.Is(_world.TopAt(Target)!));
        Assert.Contains(_world.Log.Rendered, m =>
            m.StartsWith("Checking the published binds failed", StringComparison.Ordinal)
        );
    }

    private sealed class NoLock : IDisposable
    {
        public void Dispose() { }
    }
}
