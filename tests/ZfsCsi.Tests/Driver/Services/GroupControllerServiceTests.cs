using Csi.V1;
using Serilog;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Services;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Driver.Services;

/// <summary>The group controller's locking over the fake runner: a busy group or member is ABORTED and runs nothing.</summary>
public sealed class GroupControllerServiceTests : IDisposable
{
    private const string GroupName = "groupsnapshot-5f0c1a9e";
    private readonly FakeCommandRunner _runner = new();
    private readonly MountSerializer _mounts = new(lockFile: null);
    private readonly OperationLocks _locks = new();
    private readonly SnapshotManager _snapshots;

    public GroupControllerServiceTests()
    {
        var zfs = new ZfsClient(_runner, new ZfsOptions(), _mounts);
        var logger = new LoggerConfiguration().CreateLogger();
        _snapshots = new SnapshotManager(zfs, new VolumeManager(zfs, new VolumeOptions { ParentDataset = "data/k8s" }, logger), logger);
    }

    private GroupControllerService Service => new(_snapshots, _locks);

    public void Dispose() => _mounts.Dispose();

    private static CreateVolumeGroupSnapshotRequest Create()
    {
        var request = new CreateVolumeGroupSnapshotRequest { Name = GroupName };
        request.SourceVolumeIds.Add(["data/k8s/pvc-a", "data/k8s/pvc-b"]);
        return request;
    }

    [Fact]
    public async Task A_create_is_aborted_while_a_delete_of_the_group_it_would_make_runs()
    {
        using var deleting = _locks.Acquire(_snapshots.GroupIdForName(GroupName));

        await Assert.ThrowsAsync<OperationPendingException>(() => Service.CreateVolumeGroupSnapshot(Create(), new TestServerCallContext()));

        Assert.Empty(_runner.Argv);
    }

    [Fact]
    public async Task A_create_is_aborted_while_a_member_volume_is_busy()
    {
        using var busy = _locks.Acquire("data/k8s/pvc-b");

        await Assert.ThrowsAsync<OperationPendingException>(() => Service.CreateVolumeGroupSnapshot(Create(), new TestServerCallContext()));

        Assert.Empty(_runner.Argv);
    }

    [Fact]
    public async Task A_delete_is_aborted_while_a_create_of_the_same_group_runs()
    {
        using var creating = _locks.Acquire(_snapshots.GroupIdForName(GroupName));

        await Assert.ThrowsAsync<OperationPendingException>(() => Service.DeleteVolumeGroupSnapshot(
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = _snapshots.GroupIdForName(GroupName) }, new TestServerCallContext()));

        Assert.Empty(_runner.Argv);
    }
}
