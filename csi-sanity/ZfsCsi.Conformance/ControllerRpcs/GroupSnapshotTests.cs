using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using static ZfsCsi.Conformance.Infrastructure.Requests;
using GroupRpc = Csi.V1.GroupControllerServiceCapability.Types.RPC.Types.Type;
using PluginService = Csi.V1.PluginCapability.Types.Service.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>
/// CSI spec, "Group Controller Service RPCs": CreateVolumeGroupSnapshot, DeleteVolumeGroupSnapshot,
/// GetVolumeGroupSnapshot (CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT). Without the
/// GROUP_CONTROLLER_SERVICE plugin capability every one of them is UNIMPLEMENTED.
/// </summary>
public sealed class GroupSnapshotTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    private async Task<bool> RequireGroupsAsync()
    {
        if (Fx.Advertises(PluginService.GroupControllerService))
        {
            var caps = await Fx.GroupController.GroupControllerGetCapabilitiesAsync(
                new GroupControllerGetCapabilitiesRequest()
            );
            if (caps.Capabilities.Any(c => c.Rpc?.Type == GroupRpc.CreateDeleteGetVolumeGroupSnapshot))
            {
                return true;
            }
        }
        var volumeId = await Fx.SharedVolumeIdAsync();
        await Rpc.FailsWith(
            StatusCode.Unimplemented,
            Fx.GroupController.CreateVolumeGroupSnapshotAsync(
                new CreateVolumeGroupSnapshotRequest { Name = UniqueName("group"), SourceVolumeIds = { volumeId } }
            )
        );
        await Rpc.FailsWith(
            StatusCode.Unimplemented,
            Fx.GroupController.GetVolumeGroupSnapshotAsync(
                new GetVolumeGroupSnapshotRequest { GroupSnapshotId = "csan-group" }
            )
        );
        await Rpc.FailsWith(
            StatusCode.Unimplemented,
            Fx.GroupController.DeleteVolumeGroupSnapshotAsync(
                new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = "csan-group" }
            )
        );
        return false;
    }

    private async Task<VolumeGroupSnapshot> CreateGroupAsync(string name, params string[] volumeIds)
    {
        var response = await Fx.GroupController.CreateVolumeGroupSnapshotAsync(
            new CreateVolumeGroupSnapshotRequest { Name = name, SourceVolumeIds = { volumeIds } }
        );
        Volumes.TrackGroup(response.GroupSnapshot);
        return response.GroupSnapshot;
    }

    [Fact]
    [Trait("spec", "GroupControllerGetCapabilities")]
    public async Task GroupControllerGetCapabilities_names_no_unknown_type()
    {
        if (!await RequireGroupsAsync())
        {
            return;
        }
        var caps = await Fx.GroupController.GroupControllerGetCapabilitiesAsync(
            new GroupControllerGetCapabilitiesRequest()
        );
        Assert.All(caps.Capabilities, c => Assert.NotEqual(GroupRpc.Unknown, c.Rpc?.Type ?? GroupRpc.Unknown));
    }

    [Fact]
    [Trait("spec", "CreateVolumeGroupSnapshot")]
    public async Task CreateVolumeGroupSnapshot_without_a_name_or_volumes_is_INVALID_ARGUMENT()
    {
        if (!await RequireGroupsAsync())
        {
            return;
        }
        var volume = await Volumes.CreateAsync("group-req");
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.GroupController.CreateVolumeGroupSnapshotAsync(
                new CreateVolumeGroupSnapshotRequest { SourceVolumeIds = { volume.VolumeId } }
            )
        );
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.GroupController.CreateVolumeGroupSnapshotAsync(
                new CreateVolumeGroupSnapshotRequest { Name = UniqueName("group") }
            )
        );
    }

    [Fact]
    [Trait("spec", "CreateVolumeGroupSnapshot")]
    public async Task A_group_snapshot_has_one_member_per_volume_and_the_same_answer_twice()
    {
        if (!await RequireGroupsAsync())
        {
            return;
        }
        var a = await Volumes.CreateAsync("group-a");
        var b = await Volumes.CreateAsync("group-b");
        var name = UniqueName("group");
        var group = await CreateGroupAsync(name, a.VolumeId, b.VolumeId);
        Assert.False(string.IsNullOrEmpty(group.GroupSnapshotId));
        Assert.NotNull(group.CreationTime);
        Assert.Equal(new[] { a.VolumeId, b.VolumeId }.Order(), group.Snapshots.Select(s => s.SourceVolumeId).Order());
        // Snapshot.group_snapshot_id: set on a member, "MUST be the same as the group_snapshot_id".
        Assert.All(group.Snapshots, s => Assert.Equal(group.GroupSnapshotId, s.GroupSnapshotId));
        // ready_to_use: false if any member is not ready.
        if (group.Snapshots.Any(s => !s.ReadyToUse))
        {
            Assert.False(group.ReadyToUse);
        }
        // "calls to this function MUST be idempotent ... the group snapshot MUST only be created once."
        var again = await CreateGroupAsync(name, a.VolumeId, b.VolumeId);
        Assert.Equal(group.GroupSnapshotId, again.GroupSnapshotId);
        Assert.Equal(
            group.Snapshots.Select(s => s.SnapshotId).Order(),
            again.Snapshots.Select(s => s.SnapshotId).Order()
        );
    }

    [Fact]
    [Trait("spec", "CreateVolumeGroupSnapshot Errors")]
    public async Task The_same_group_name_for_other_volumes_is_ALREADY_EXISTS()
    {
        if (!await RequireGroupsAsync())
        {
            return;
        }
        // "Group snapshot already exists but is incompatible | 6 ALREADY_EXISTS".
        var a = await Volumes.CreateAsync("group-x");
        var b = await Volumes.CreateAsync("group-y");
        var name = UniqueName("group");
        await CreateGroupAsync(name, a.VolumeId);
        await Rpc.FailsWith(
            StatusCode.AlreadyExists,
            Fx.GroupController.CreateVolumeGroupSnapshotAsync(
                new CreateVolumeGroupSnapshotRequest { Name = name, SourceVolumeIds = { a.VolumeId, b.VolumeId } }
            )
        );
    }

    [Fact]
    [Trait("spec", "GetVolumeGroupSnapshot")]
    public async Task GetVolumeGroupSnapshot_finds_the_group_and_answers_NOT_FOUND_after_it_is_deleted()
    {
        if (!await RequireGroupsAsync())
        {
            return;
        }
        var a = await Volumes.CreateAsync("group-get");
        var group = await CreateGroupAsync(UniqueName("group"), a.VolumeId);
        var members = group.Snapshots.Select(s => s.SnapshotId).ToArray();
        var got = await Fx.GroupController.GetVolumeGroupSnapshotAsync(
            new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { members } }
        );
        Assert.Equal(group.GroupSnapshotId, got.GroupSnapshot.GroupSnapshotId);
        Assert.Equal(members.Order(), got.GroupSnapshot.Snapshots.Select(s => s.SnapshotId).Order());
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.GroupController.GetVolumeGroupSnapshotAsync(new GetVolumeGroupSnapshotRequest())
        );

        // DeleteVolumeGroupSnapshot: idempotent, "MUST reply 0 OK" when it is gone.
        var delete = new DeleteVolumeGroupSnapshotRequest
        {
            GroupSnapshotId = group.GroupSnapshotId,
            SnapshotIds = { members },
        };
        await Fx.GroupController.DeleteVolumeGroupSnapshotAsync(delete);
        await Fx.GroupController.DeleteVolumeGroupSnapshotAsync(delete);
        // GetVolumeGroupSnapshot Errors: "Volume group snapshot does not exist | 5 NOT_FOUND".
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.GroupController.GetVolumeGroupSnapshotAsync(
                new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { members } }
            )
        );
    }

    [Fact]
    [Trait("spec", "DeleteVolumeGroupSnapshot")]
    public async Task DeleteVolumeGroupSnapshot_without_an_id_is_INVALID_ARGUMENT_and_of_an_unknown_id_OK()
    {
        if (!await RequireGroupsAsync())
        {
            return;
        }
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.GroupController.DeleteVolumeGroupSnapshotAsync(new DeleteVolumeGroupSnapshotRequest())
        );
        await Fx.GroupController.DeleteVolumeGroupSnapshotAsync(
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = "csan-unknown-group" }
        );
    }

    [Fact]
    [Trait("spec", "CreateVolumeGroupSnapshot")]
    public async Task A_member_of_a_group_restores_into_a_volume()
    {
        if (!await RequireGroupsAsync())
        {
            return;
        }
        // "After snapshot creation, any individual snapshot from the group MAY be used as a source
        // to provision a new volume."
        var a = await Volumes.CreateAsync("group-src");
        await Storage.WriteAsync(a.VolumeId, "g", "grouped");
        var group = await CreateGroupAsync(UniqueName("group"), a.VolumeId);
        var request = Create(UniqueName("group-restored"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = group.Snapshots[0].SnapshotId },
        };
        var restored = await Volumes.CreateAsync(request);
        Assert.Equal("grouped", await Storage.ReadAsync(restored.VolumeId, "g"));
    }
}
