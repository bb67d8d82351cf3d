using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;
using ZfsCsi.Tests.Fakes;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// NodePublishVolume on the model kernel (<see cref="FakeKernel"/>): what is bound where, with
/// which per-mount flags, what a retry answers (CSI spec, NodePublishVolume: the same request is
/// OK, the same target with other flags ALREADY_EXISTS, SINGLE_NODE_SINGLE_WRITER at a second target
/// FAILED_PRECONDITION), and what is refused before anything is made. The same on the real
/// kernel: tests/ZfsCsi.IntegrationTests/Cluster.
/// </summary>
public sealed class NodeVolumesPublishTests : IDisposable
{
    private static readonly string Target = NodeWorld.Target("u1");
    private NodeWorld _world = NodeWorld.OverSshfs();

    public void Dispose() => _world.Dispose();

    private FakeKernel Kernel => _world.Kernel;

    [Fact]
    public async Task Publish_binds_the_volumes_directory_at_the_target_with_the_requested_flags()
    {
        _world.AddVolume("pvc-1");

        await _world.PublishAsync("pvc-1", Target, readOnly: true, flags: ["noexec"]);

        var bind = Assert.Single(_world.MountsAt(Target));
        Assert.Equal("/k8s/pvc-1", bind.Root);
        Assert.Equal("fuse.sshfs", bind.FsType);
        Assert.Equal(NodeWorld.SshfsSource, bind.Source);
        Assert.Equal(_world.TopAt(NodeWorld.Data)!.Device, bind.Device);
        // ro and noexec as asked, nosuid and nodev kept from the SSHFS mount: a bind never gets more rights than its source.
        Assert.Equal(["nodev", "noexec", "nosuid", "relatime", "ro"], bind.MountOptions.Order(StringComparer.Ordinal));
        Assert.True(Kernel.IsDirectory(Target));
    }

    [Fact]
    public async Task Publish_binds_first_and_then_remounts_the_bind_with_its_flags()
    {
        _world.AddVolume("pvc-1");

        await _world.PublishAsync("pvc-1", Target, flags: ["nodev", "noatime"]);

        Assert.Equal(
            [
                new KernelCall("mount", Target, Native.MsBind),
                new KernelCall(
                    "mount",
                    Target,
                    Native.MsRemount | Native.MsBind | Native.MsNodev | Native.MsNoatime | Native.MsNosuid
                ),
            ],
            Kernel.MountCalls
        );
        Assert.Equal(
            ["noatime", "nodev", "nosuid", "rw"],
            _world.TopAt(Target)!.MountOptions.Order(StringComparer.Ordinal)
        );
    }

    [Fact]
    public async Task A_publish_without_flags_is_one_bind_with_the_sources_flags()
    {
        _world.AddVolume("pvc-1");

        await _world.PublishAsync("pvc-1", Target);

        Assert.Equal([new KernelCall("mount", Target, Native.MsBind)], Kernel.MountCalls);
        Assert.Equal(
            ["nodev", "nosuid", "relatime", "rw"],
            _world.TopAt(Target)!.MountOptions.Order(StringComparer.Ordinal)
        );
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_second_publish_with_the_same_flags_is_ok_and_mounts_nothing_more(bool readOnly)
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target, readOnly, flags: ["noexec", "noatime"]);
        var mounts = Kernel.MountCalls.Count;

        await _world.PublishAsync("pvc-1", Target, readOnly, flags: ["noexec", "noatime"]);

        Assert.Equal(mounts, Kernel.MountCalls.Count);
        Assert.Single(_world.MountsAt(Target));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task A_republish_read_only_where_it_is_read_write_or_the_other_way_is_already_exists(
        bool first,
        bool second
    )
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target, readOnly: first);
        var before = _world.TopAt(Target)!;

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            _world.PublishAsync("pvc-1", Target, readOnly: second)
        );

        Assert.Contains("already published at " + Target + " with other options", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, _world.TopAt(Target), MountEntryComparer.Instance);
    }

    [Theory]
    [InlineData(new string[0], new[] { "noexec" })]
    [InlineData(new[] { "noexec" }, new string[0])]
    [InlineData(new[] { "noatime" }, new[] { "strictatime" })]
    [InlineData(new[] { "noatime" }, new string[0])]
    public async Task A_republish_with_other_mount_flags_is_already_exists(string[] first, string[] second)
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target, flags: first);

        await Assert.ThrowsAsync<AlreadyExistsException>(() => _world.PublishAsync("pvc-1", Target, flags: second));
    }

    [Theory]
    [InlineData("zfs")]
    [InlineData("fuse.zfs")]
    public async Task On_the_storage_host_the_bind_is_of_the_datasets_own_mount_and_keeps_its_noexec(string zfsType)
    {
        _world.Dispose();
        _world = NodeWorld.OnStorageHost(zfsType);
        // exec=off on the dataset shows as noexec on its own ZFS mount, not on /data.
        _world.AddVolume("pvc-1", "rw,noexec,relatime");

        await _world.PublishAsync("pvc-1", Target, flags: ["nodev"]);
        await _world.PublishAsync("pvc-1", Target, flags: ["nodev"]);

        var bind = Assert.Single(_world.MountsAt(Target));
        Assert.Equal(("/", "data/k8s/pvc-1", zfsType), (bind.Root, bind.Source, bind.FsType));
        Assert.Equal(["nodev", "noexec", "relatime", "rw"], bind.MountOptions.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task On_the_storage_host_a_read_write_publish_of_a_read_only_dataset_is_a_read_only_bind_and_its_retry_is_ok(
        bool withFlags
    )
    {
        string[] flags = withFlags ? ["noexec"] : [];
        _world.Dispose();
        _world = NodeWorld.OnStorageHost();
        // property.readonly: "on" in the StorageClass: ZFS mounts the dataset read-only.
        _world.AddVolume("pvc-1", "ro,relatime", zfsSuperOptions: "ro");

        await _world.PublishAsync("pvc-1", Target, flags: flags);
        await _world.PublishAsync("pvc-1", Target, flags: flags);

        Assert.True(Assert.Single(_world.MountsAt(Target)).ReadOnly);
        await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            _world.PublishAsync("pvc-1", Target, flags: flags.Length == 0 ? ["noexec"] : [])
        );
    }

    [Fact]
    public async Task A_volume_whose_directory_is_missing_is_not_found_and_nothing_is_made()
    {
        var e = await Assert.ThrowsAsync<NotFoundException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Contains("/data/k8s/pvc-1 is missing", e.Message, StringComparison.Ordinal);
        Assert.False(Kernel.Exists(NodeWorld.Kubelet + "/pods"));
        Assert.Empty(Kernel.MountCalls);
    }

    [Fact]
    public async Task Over_sshfs_a_volume_whose_dataset_is_not_mounted_on_the_storage_host_is_failed_precondition_and_nothing_is_made()
    {
        _world.AddVolume("pvc-1");
        _world.UnmountOnStorageHost("pvc-1");

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Contains("is not mounted on the pool's host", e.Message, StringComparison.Ordinal);
        Assert.False(Kernel.Exists(NodeWorld.Kubelet + "/pods"));
        Assert.Empty(Kernel.MountCalls);
    }

    [Fact]
    public async Task On_the_storage_host_a_dataset_that_is_not_mounted_is_failed_precondition()
    {
        _world.Dispose();
        _world = NodeWorld.OnStorageHost();
        _world.ParentDataset!.MakeDirectories("/pvc-1");

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Contains(
            "is not mounted at /data/k8s/pvc-1 (that directory belongs to data/k8s)",
            e.Message,
            StringComparison.Ordinal
        );
        Assert.Empty(Kernel.MountCalls);
    }

    [Fact]
    public async Task On_the_storage_host_a_dataset_mounted_while_its_directory_was_opened_is_failed_precondition_to_retry()
    {
        _world.Dispose();
        _world = NodeWorld.OnStorageHost();
        _world.ParentDataset!.MakeDirectories("/pvc-1");
        // An import mounting datasets one by one: the dataset is mounted right after the walk opened the bare directory.
        Kernel.After("openat", NodeWorld.DirectoryOf("pvc-1"), () =>
            Kernel.Mount(NodeWorld.DirectoryOf("pvc-1"), "zfs", "data/k8s/pvc-1")
        );

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Contains(
            "was mounted at /data/k8s/pvc-1 while it was being opened; retry",
            e.Message,
            StringComparison.Ordinal
        );
        Assert.Empty(Kernel.MountCalls);
        await _world.PublishAsync("pvc-1", Target);
        Assert.Equal("data/k8s/pvc-1", _world.TopAt(Target)!.Source);
    }

    [Fact]
    public async Task A_data_root_that_is_not_mounted_is_unavailable()
    {
        _world.AddVolume("pvc-1");
        Kernel.Detach(NodeWorld.Data);

        var e = await Assert.ThrowsAsync<DeadMountException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Equal("the node's data root is unavailable: /data is not mounted", e.Message);
    }

    [Fact]
    public async Task A_dead_data_root_is_unavailable_and_says_its_errno()
    {
        _world.AddVolume("pvc-1");
        Kernel.Kill(_world.Pool);

        var e = await Assert.ThrowsAsync<DeadMountException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Equal(
            $"the node's data root is unavailable: /data (fuse.sshfs {NodeWorld.SshfsSource}) is dead: statvfs /data: ENOTCONN (transport endpoint is not connected)",
            e.Message
        );
        Assert.Empty(Kernel.MountCalls);
    }

    [Fact]
    public async Task A_symlink_in_place_of_the_target_is_failed_precondition_and_is_not_followed()
    {
        _world.AddVolume("pvc-1");
        Kernel.MakeDirectories("/etc");
        Kernel.MakeDirectories(Target[..Target.LastIndexOf('/')]);
        Kernel.Symlink(Target, "/etc");

        var e = await Assert.ThrowsAsync<NotADirectoryException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Equal("a symbolic link", e.FoundInstead);
        Assert.Empty(_world.MountsAt("/etc"));
        Assert.Empty(Kernel.MountCalls);
    }

    [Fact]
    public async Task A_symlinked_pod_directory_is_failed_precondition_and_nothing_is_made_where_it_points()
    {
        _world.AddVolume("pvc-1");
        Kernel.MakeDirectories("/srv/elsewhere");
        Kernel.MakeDirectories(NodeWorld.Kubelet + "/pods");
        Kernel.Symlink(NodeWorld.Kubelet + "/pods/u1", "/srv/elsewhere");

        await Assert.ThrowsAsync<NotADirectoryException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Empty(Kernel.List("/srv/elsewhere"));
        Assert.Empty(Kernel.MountCalls);
    }

    [Fact]
    public async Task A_symlink_planted_as_the_volume_directory_is_failed_precondition_and_nothing_is_bound()
    {
        _world.AddVolume("pvc-1");
        _world.Pool.ReplaceWithSymlink("/k8s/pvc-1", "/");

        var e = await Assert.ThrowsAsync<NotADirectoryException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Contains("/data/k8s/pvc-1 is a symbolic link", e.Message, StringComparison.Ordinal);
        Assert.Empty(Kernel.MountCalls);
    }

    [Fact]
    public async Task Another_mount_at_the_target_is_failed_precondition_and_left_alone()
    {
        _world.AddVolume("pvc-1");
        Kernel.MakeDirectories(Target);
        Kernel.Mount(Target, "tmpfs", "tmpfs", "rw");

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Contains(
            "is already a mount of tmpfs:/ (tmpfs), not of volume data/k8s/pvc-1",
            e.Message,
            StringComparison.Ordinal
        );
        Assert.Equal("tmpfs", Assert.Single(_world.MountsAt(Target)).FsType);
        Assert.DoesNotContain(Kernel.Calls, c => c.Call == "umount2");
    }

    [Fact]
    public async Task A_bind_of_another_volume_at_the_target_is_failed_precondition()
    {
        _world.AddVolume("pvc-1");
        _world.AddVolume("pvc-2");
        await _world.PublishAsync("pvc-2", Target);

        await Assert.ThrowsAsync<FailedPreconditionException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Equal("/k8s/pvc-2", Assert.Single(_world.MountsAt(Target)).Root);
    }

    [Fact]
    public async Task The_fence_left_for_the_volume_is_replaced_by_its_bind_once_the_dataset_is_back()
    {
        var numbers = _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        Assert.Equal([Target], await _world.GuardOnceAsync());
        _world.Pool.AnswerStatvfs("/k8s/pvc-1", numbers);

        await _world.PublishAsync("pvc-1", Target);

        var bind = Assert.Single(_world.MountsAt(Target));
        Assert.Equal("/k8s/pvc-1", bind.Root);
        Assert.False(Fence.Is(bind));
    }

    [Fact]
    public async Task Another_volumes_fence_at_the_target_is_failed_precondition()
    {
        _world.AddVolume("pvc-1");
        _world.AddVolume("pvc-2");
        await _world.PublishAsync("pvc-2", Target);
        _world.UnmountOnStorageHost("pvc-2");
        await _world.GuardOnceAsync();

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() => _world.PublishAsync("pvc-1", Target));

        Assert.Contains("holds the fence left for volume data/k8s/pvc-2", e.Message, StringComparison.Ordinal);
        Assert.True(Fence.Is(_world.TopAt(Target)!));
    }

    [Fact]
    public async Task A_stale_bind_of_an_sshfs_mount_that_died_is_replaced_by_a_bind_of_the_new_one()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        var old = _world.Pool;
        Kernel.Kill(old);
        Kernel.Detach(NodeWorld.Data);
        _world.MountPoolOverSshfs();
        _world.AddVolume("pvc-1");

        await _world.PublishAsync("pvc-1", Target);

        var bind = Assert.Single(_world.MountsAt(Target));
        Assert.Equal(_world.Pool.Device, bind.Device);
        Assert.NotEqual(old.Device, bind.Device);
    }

    [Fact]
    public async Task A_remount_the_kernel_refuses_leaves_no_bind_behind()
    {
        _world.AddVolume("pvc-1");
        Kernel.Fail("mount", Target, Errno.EPERM, withFlags: Native.MsRemount);

        var e = await Assert.ThrowsAsync<ZfsCsiException>(() => _world.PublishAsync("pvc-1", Target, readOnly: true));

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("mount -o remount,bind", e.Message, StringComparison.Ordinal);
        Assert.Empty(_world.MountsAt(Target));
        // Not left as a read-write bind of a volume asked for read-only: detached at once.
        Assert.Contains(
            new KernelCall("umount2", Target, (ulong)(Native.MntDetach | Native.UmountNofollow)),
            Kernel.Calls
        );
    }

    [Fact]
    public async Task Publish_and_unpublish_close_every_descriptor_they_open()
    {
        _world.AddVolume("pvc-1");

        await _world.PublishAsync("pvc-1", Target, flags: ["noexec"]);
        await _world.PublishAsync("pvc-1", Target, flags: ["noexec"]);
        await _world.UnpublishAsync(Target);

        Assert.Equal(0, await _world.OpenDescriptorsWhenSettledAsync());
        Assert.Contains(Kernel.Calls, c => c.Call == "openat");
    }

    [Fact]
    public async Task A_single_node_single_writer_volume_published_at_another_target_is_failed_precondition_and_nothing_is_made_there()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishRpcAsync("pvc-1", Target, Mode.SingleNodeSingleWriter);

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            _world.PublishRpcAsync("pvc-1", NodeWorld.Target("u2"), Mode.SingleNodeSingleWriter)
        );

        Assert.Contains(
            "SINGLE_NODE_SINGLE_WRITER (ReadWriteOncePod) and already published on this node at " + Target,
            e.Message,
            StringComparison.Ordinal
        );
        Assert.False(Kernel.Exists(NodeWorld.Kubelet + "/pods/u2"));
    }

    [Fact]
    public async Task A_single_node_single_writer_publish_again_at_its_own_target_is_ok()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishRpcAsync("pvc-1", Target, Mode.SingleNodeSingleWriter);

        await _world.PublishRpcAsync("pvc-1", Target, Mode.SingleNodeSingleWriter);

        Assert.Single(_world.MountsAt(Target));
    }

    [Fact]
    public async Task A_single_node_single_writer_volume_may_move_to_another_target_once_unpublished()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishRpcAsync("pvc-1", Target, Mode.SingleNodeSingleWriter);
        await _world.UnpublishAsync(Target);

        await _world.PublishRpcAsync("pvc-1", NodeWorld.Target("u2"), Mode.SingleNodeSingleWriter);

        Assert.Single(_world.MountsAt(NodeWorld.Target("u2")));
    }

    [Fact]
    public async Task A_single_node_single_writer_volume_fenced_at_a_target_is_still_published_there()
    {
        var numbers = _world.AddVolume("pvc-1");
        await _world.PublishRpcAsync("pvc-1", Target, Mode.SingleNodeSingleWriter);
        _world.UnmountOnStorageHost("pvc-1");
        await _world.GuardOnceAsync();
        _world.Pool.AnswerStatvfs("/k8s/pvc-1", numbers);

        await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            _world.PublishRpcAsync("pvc-1", NodeWorld.Target("u2"), Mode.SingleNodeSingleWriter)
        );
    }

    [Theory]
    [InlineData(Mode.SingleNodeMultiWriter)]
    [InlineData(Mode.SingleNodeWriter)]
    [InlineData(Mode.MultiNodeMultiWriter)]
    public async Task The_shared_modes_publish_one_volume_at_two_targets_of_the_node(Mode mode)
    {
        _world.AddVolume("pvc-1");

        await _world.PublishRpcAsync("pvc-1", Target, mode);
        await _world.PublishRpcAsync("pvc-1", NodeWorld.Target("u2"), mode);

        Assert.Equal("/k8s/pvc-1", _world.TopAt(Target)!.Root);
        Assert.Equal("/k8s/pvc-1", _world.TopAt(NodeWorld.Target("u2"))!.Root);
    }

    [Theory]
    [InlineData(Mode.SingleNodeReaderOnly)]
    [InlineData(Mode.MultiNodeReaderOnly)]
    public async Task A_reader_only_access_mode_makes_the_bind_read_only_without_readonly_in_the_request(Mode mode)
    {
        _world.AddVolume("pvc-1");

        await _world.PublishRpcAsync("pvc-1", Target, mode, readOnly: false);

        Assert.True(_world.TopAt(Target)!.ReadOnly);
    }
}

/// <summary>Two mountinfo entries are the same mount with the same options (MountEntry's sets compare by reference).</summary>
internal sealed class MountEntryComparer : IEqualityComparer<MountEntry?>
{
    public static readonly MountEntryComparer Instance = new();

    public bool Equals(MountEntry? x, MountEntry? y) =>
        x is null || y is null
            ? x is null && y is null
            : x.Id == y.Id
                && x.Device == y.Device
                && x.Root == y.Root
                && x.MountPoint == y.MountPoint
                && x.MountOptions.SetEquals(y.MountOptions);

    public int GetHashCode(MountEntry? obj) => obj?.Id ?? 0;
}
