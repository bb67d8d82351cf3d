using Csi.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Driver.Grpc;
using RpcType = Csi.V1.GroupControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Driver.Services;

/// <summary>
/// CSI GroupController service: volume group snapshots, all members taken at one instant by one
/// atomic ZFS operation (see <see cref="SnapshotManager.CreateGroupAsync"/>). Validates, locks,
/// calls the domain, builds the response; errors are mapped by <see cref="ErrorMappingInterceptor"/>.
/// </summary>
public sealed class GroupControllerService(SnapshotManager snapshots, OperationLocks locks)
    : GroupController.GroupControllerBase
{
    public override Task<GroupControllerGetCapabilitiesResponse> GroupControllerGetCapabilities(
        GroupControllerGetCapabilitiesRequest request,
        ServerCallContext context
    )
    {
        var response = new GroupControllerGetCapabilitiesResponse();
        response.Capabilities.Add(
            new GroupControllerServiceCapability
            {
                Rpc = new GroupControllerServiceCapability.Types.RPC
                {
                    Type = RpcType.CreateDeleteGetVolumeGroupSnapshot,
                },
            }
        );
        return Task.FromResult(response);
    }

    /// <summary>
    /// Every field is checked first (<see cref="SnapshotManager.CheckCreateGroupRequest"/>), then it is
    /// locked by the group id the name maps to (the key DeleteVolumeGroupSnapshot takes too, so a
    /// delete never runs between a create's snapshot and its renames) and by every member volume,
    /// so no member is deleted while the group is taken.
    /// </summary>
    public override async Task<CreateVolumeGroupSnapshotResponse> CreateVolumeGroupSnapshot(
        CreateVolumeGroupSnapshotRequest request,
        ServerCallContext context
    )
    {
        SnapshotManager.CheckCreateGroupRequest(request.Name, request.SourceVolumeIds, request.Parameters);
        using var _ = ControllerService.AcquireAll(
            locks,
            [snapshots.GroupIdForName(request.Name), .. request.SourceVolumeIds]
        );
        var group = await snapshots
            .CreateGroupAsync(request.Name, request.SourceVolumeIds, request.Parameters, context.CancellationToken)
            .ConfigureAwait(false);
        return new CreateVolumeGroupSnapshotResponse { GroupSnapshot = ToCsi(group) };
    }

    public override async Task<DeleteVolumeGroupSnapshotResponse> DeleteVolumeGroupSnapshot(
        DeleteVolumeGroupSnapshotRequest request,
        ServerCallContext context
    )
    {
        SnapshotManager.CheckGroupIdRequest(request.GroupSnapshotId, request.SnapshotIds);
        var id = request.GroupSnapshotId;
        using var _ = locks.Acquire(id);
        await snapshots.DeleteGroupAsync(id, request.SnapshotIds, context.CancellationToken).ConfigureAwait(false);
        return new DeleteVolumeGroupSnapshotResponse();
    }

    public override async Task<GetVolumeGroupSnapshotResponse> GetVolumeGroupSnapshot(
        GetVolumeGroupSnapshotRequest request,
        ServerCallContext context
    )
    {
        SnapshotManager.CheckGroupIdRequest(request.GroupSnapshotId, request.SnapshotIds);
        var group = await snapshots
            .GetGroupAsync(request.GroupSnapshotId, request.SnapshotIds, context.CancellationToken)
            .ConfigureAwait(false);
        return new GetVolumeGroupSnapshotResponse { GroupSnapshot = ToCsi(group) };
    }

    private static VolumeGroupSnapshot ToCsi(GroupSnapshot group)
    {
        var csi = new VolumeGroupSnapshot
        {
            GroupSnapshotId = group.Id,
            CreationTime = Timestamp.FromDateTimeOffset(group.CreatedAt),
            ReadyToUse = true,
        };
        csi.Snapshots.Add(group.Members.Select(ControllerService.ToCsi));
        return csi;
    }
}
