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
        _snapshots = new SnapshotManager(
            zfs,
            new VolumeManager(
                zfs,
                new VolumeOptions { ParentDataset = "data/k8s" },
                logger,
                new SweepRequests(),
                new OperationLocks()
            ),
            logger
        );
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

        await Assert.ThrowsAsync<OperationPendingException>(() =>
            Service.CreateVolumeGroupSnapshot(Create(), new TestServerCallContext())
        );

        Assert.Empty(_runner.Argv);
    }

    [Fact]
    public async Task A_create_is_aborted_while_a_member_volume_is_busy()
    {
        using var busy = _locks.Acquire("data/k8s/pvc-b");

        await Assert.ThrowsAsync<OperationPendingException>(() =>
            Service.CreateVolumeGroupSnapshot(Create(), new TestServerCallContext())
        );

        Assert.Empty(_runner.Argv);
    }

    public static TheoryData<string, Action<CreateVolumeGroupSnapshotRequest>> BadCreates() =>
        new()
        {
            { "no name", r => r.Name = "" },
            { "name over 128 bytes", r => r.Name = new string('g', 129) },
            { "no source volumes", r => r.SourceVolumeIds.Clear() },
            { "an empty source volume id", r => r.SourceVolumeIds.Add("") },
            { "a source volume twice", r => r.SourceVolumeIds.Add("data/k8s/pvc-b") },
            { "a parameter of ours", r => r.Parameters.Add("recordsize", "128K") },
        };

    [Theory]
    [MemberData(nameof(BadCreates))]
    public async Task A_bad_create_is_invalid_argument_while_its_group_and_members_are_busy_and_runs_nothing(
        string why,
        Action<CreateVolumeGroupSnapshotRequest> spoil
    )
    {
        // Every check comes before the locks: a bad request is never told to retry (ABORTED).
        var request = Create();
        spoil(request);
        using var group = _locks.TryAcquire(_snapshots.GroupIdForName(GroupName));
        using var member = _locks.TryAcquire("data/k8s/pvc-b");

        var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
            Service.CreateVolumeGroupSnapshot(request, new TestServerCallContext())
        );

        Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        Assert.Empty(_runner.Argv);
    }

    [Theory]
    [InlineData("", "data/k8s/pvc-a@g-0123456789abcdef01234567")]
    [InlineData("", "")]
    [InlineData("data/k8s@g-0123456789abcdef01234567", "")]
    public async Task Delete_and_get_without_a_group_id_or_with_an_empty_snapshot_id_are_invalid_argument_and_run_nothing(
        string groupId,
        string snapshotId
    )
    {
        using var busy = groupId == "" ? null : _locks.TryAcquire(groupId);
        var delete = new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = groupId, SnapshotIds = { snapshotId } };
        var get = new GetVolumeGroupSnapshotRequest { GroupSnapshotId = groupId, SnapshotIds = { snapshotId } };

        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Service.DeleteVolumeGroupSnapshot(delete, new TestServerCallContext())
        );
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Service.GetVolumeGroupSnapshot(get, new TestServerCallContext())
        );

        Assert.Empty(_runner.Argv);
    }

    [Fact]
    public async Task An_unknown_group_without_snapshot_ids_deletes_OK_and_gets_NOT_FOUND_as_csi_sanity_expects()
    {
        // snapshot_ids is REQUIRED by the spec, but csi-sanity sends none with an id that is not a
        // group of ours and expects OK (delete) and NOT_FOUND (get); the id alone finds the members.
        await Service.DeleteVolumeGroupSnapshot(
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = "some-other-group" },
            new TestServerCallContext()
        );
        await Assert.ThrowsAsync<NotFoundException>(() =>
            Service.GetVolumeGroupSnapshot(
                new GetVolumeGroupSnapshotRequest { GroupSnapshotId = "some-other-group" },
                new TestServerCallContext()
            )
        );

        Assert.Empty(_runner.Argv);
    }

    [Fact]
    public async Task A_delete_is_aborted_while_a_create_of_the_same_group_runs()
    {
        using var creating = _locks.Acquire(_snapshots.GroupIdForName(GroupName));

        await Assert.ThrowsAsync<OperationPendingException>(() =>
            Service.DeleteVolumeGroupSnapshot(
                new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = _snapshots.GroupIdForName(GroupName) },
                new TestServerCallContext()
            )
        );

        Assert.Empty(_runner.Argv);
    }
}
