using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>
/// CSI spec, ControllerGetCapabilities: what the controller advertises must be what works. Every
/// RPC tied to a capability answers something other than UNIMPLEMENTED when the capability is
/// advertised, and UNIMPLEMENTED when it is not (Error Scheme: "Call not implemented ... The
/// invoked RPC is not implemented by the Plugin or disabled in the Plugin's current mode of
/// operation").
/// </summary>
public sealed class CapabilityTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    /// <summary>A well-formed request for each capability-bound RPC, on an id that exists or not.</summary>
    private static readonly Dictionary<
        string,
        (ControllerRpc Capability, Func<Volumes, Csi.V1.Controller.ControllerClient, string, Task> Call)
    > Bound = new()
    {
        ["CreateVolume"] = (ControllerRpc.CreateDeleteVolume, (v, _, _) =>
            v.CreateAsync(Requests.Create(Requests.UniqueName("cap")))
        ),
        ["DeleteVolume"] = (ControllerRpc.CreateDeleteVolume, (_, c, id) =>
            c.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id + "-never-made" }).ResponseAsync
        ),
        ["ControllerPublishVolume"] = (ControllerRpc.PublishUnpublishVolume, (_, c, id) =>
            c.ControllerPublishVolumeAsync(
                new ControllerPublishVolumeRequest
                {
                    VolumeId = id,
                    NodeId = ConformanceFixture.NodeId,
                    VolumeCapability = Requests.Mount(),
                }
            ).ResponseAsync
        ),
        ["ControllerUnpublishVolume"] = (ControllerRpc.PublishUnpublishVolume, (_, c, id) =>
            c.ControllerUnpublishVolumeAsync(
                new ControllerUnpublishVolumeRequest { VolumeId = id, NodeId = ConformanceFixture.NodeId }
            ).ResponseAsync
        ),
        ["ListVolumes"] = (ControllerRpc.ListVolumes, (_, c, _) =>
            c.ListVolumesAsync(new ListVolumesRequest()).ResponseAsync
        ),
        ["GetCapacity"] = (ControllerRpc.GetCapacity, (_, c, _) =>
            c.GetCapacityAsync(new GetCapacityRequest()).ResponseAsync
        ),
        ["CreateSnapshot"] = (ControllerRpc.CreateDeleteSnapshot, (_, c, id) =>
            c.CreateSnapshotAsync(
                new CreateSnapshotRequest
                {
                    Name = Requests.UniqueName("cap-snap"),
                    SourceVolumeId = id + "-never-made",
                }
            ).ResponseAsync
        ),
        ["DeleteSnapshot"] = (ControllerRpc.CreateDeleteSnapshot, (_, c, id) =>
            c.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = id + "@never-made" }).ResponseAsync
        ),
        ["ListSnapshots"] = (ControllerRpc.ListSnapshots, (_, c, _) =>
            c.ListSnapshotsAsync(new ListSnapshotsRequest()).ResponseAsync
        ),
        ["GetSnapshot"] = (ControllerRpc.GetSnapshot, (_, c, id) =>
            c.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = id + "@never-made" }).ResponseAsync
        ),
        ["ControllerExpandVolume"] = (ControllerRpc.ExpandVolume, (_, c, id) => c.ControllerExpandVolumeAsync(
                new ControllerExpandVolumeRequest
                {
                    VolumeId = id,
                    CapacityRange = new CapacityRange { RequiredBytes = Requests.VolumeSize },
                }
            ).ResponseAsync),
        ["ControllerGetVolume"] = (ControllerRpc.GetVolume, (_, c, id) =>
            c.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id }).ResponseAsync
        ),
        ["ControllerModifyVolume"] = (ControllerRpc.ModifyVolume, (_, c, id) =>
            c.ControllerModifyVolumeAsync(
                new ControllerModifyVolumeRequest { VolumeId = id, MutableParameters = { ["compression"] = "on" } }
            ).ResponseAsync
        ),
        ["ControllerGetVolumeHealth"] = (ControllerRpc.GetVolumeHealth, (_, c, id) =>
            c.ControllerGetVolumeHealthAsync(new ControllerGetVolumeHealthRequest { VolumeId = id }).ResponseAsync
        ),
        ["ControllerListVolumeHealth"] = (ControllerRpc.ListVolumeHealth, (_, c, _) =>
            c.ControllerListVolumeHealthAsync(new ControllerListVolumeHealthRequest()).ResponseAsync
        ),
    };

    public static TheoryData<string> BoundRpcs => [.. Bound.Keys];

    [Theory]
    [MemberData(nameof(BoundRpcs))]
    [Trait("spec", "ControllerGetCapabilities")]
    public async Task An_rpc_is_unimplemented_exactly_when_its_capability_is_not_advertised(string rpc)
    {
        var (capability, call) = Bound[rpc];
        var volumeId = await Fx.SharedVolumeIdAsync();
        // A CreateVolume probe's volume is tracked and deleted when the test ends.
        var code = await Rpc.CodeOf(() => call(Volumes, Fx.Controller, volumeId));
        if (Fx.Advertises(capability))
        {
            Assert.True(
                code != StatusCode.Unimplemented,
                $"{rpc} answered UNIMPLEMENTED although {capability} is advertised"
            );
        }
        else
        {
            Assert.True(
                code == StatusCode.Unimplemented,
                $"{rpc} answered {code} although {capability} is not advertised: expected UNIMPLEMENTED"
            );
        }
    }

    [Theory]
    [MemberData(nameof(BoundRpcs))]
    [Trait("spec", "Error Scheme")]
    public async Task An_unimplemented_rpc_says_so_in_its_status_message(string rpc)
    {
        // Error Scheme: "The status message MUST contain a human readable description of error,
        // if the status code is not OK."
        var (capability, call) = Bound[rpc];
        if (Fx.Advertises(capability))
        {
            return;
        }
        var volumeId = await Fx.SharedVolumeIdAsync();
        var e = await Assert.ThrowsAsync<RpcException>(() => call(Volumes, Fx.Controller, volumeId));
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail), $"{rpc} answered UNIMPLEMENTED with an empty message");
    }

    [Fact]
    [Trait("spec", "ControllerGetCapabilities")]
    public async Task ControllerGetCapabilities_names_no_unknown_type_and_no_duplicate_and_is_stable()
    {
        var first = await Fx.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());
        var second = await Fx.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());
        Assert.Equal(first, second);
        var types = first.Capabilities.Select(c => c.Rpc?.Type ?? ControllerRpc.Unknown).ToList();
        Assert.DoesNotContain(ControllerRpc.Unknown, types);
        Assert.Equal(types.Count, types.Distinct().Count());
        Assert.All(types, t => Assert.True(Enum.IsDefined(t), $"capability {(int)t} is not defined by the spec"));
    }

    [Fact]
    [Trait("spec", "ControllerGetCapabilities")]
    public void Capabilities_that_depend_on_another_come_with_it()
    {
        // CSI spec, ControllerServiceCapability: LIST_VOLUMES_PUBLISHED_NODES "The SP MUST also
        // support PUBLISH_UNPUBLISH_VOLUME"; PUBLISH_READONLY qualifies ControllerPublishVolume;
        // LIST_VOLUME_HEALTH "MUST also support the GET_VOLUME_HEALTH capability".
        if (Fx.Advertises(ControllerRpc.ListVolumesPublishedNodes) || Fx.Advertises(ControllerRpc.PublishReadonly))
        {
            Assert.True(Fx.Advertises(ControllerRpc.PublishUnpublishVolume));
        }
        if (Fx.Advertises(ControllerRpc.ListVolumeHealth))
        {
            Assert.True(Fx.Advertises(ControllerRpc.GetVolumeHealth));
        }
        if (
            Fx.Advertises(ControllerRpc.CloneVolume)
            || Fx.Advertises(ControllerRpc.ListSnapshots)
            || Fx.Advertises(ControllerRpc.GetSnapshot)
        )
        {
            // A clone or a listing needs volumes to exist; snapshot listings need snapshots.
            Assert.True(Fx.Advertises(ControllerRpc.CreateDeleteVolume));
        }
    }

    [Theory]
    [InlineData(Mode.SingleNodeSingleWriter)]
    [InlineData(Mode.SingleNodeMultiWriter)]
    [InlineData(Mode.SingleNodeWriter)]
    [Trait("spec", "ControllerServiceCapability SINGLE_NODE_MULTI_WRITER")]
    public async Task SINGLE_NODE_MULTI_WRITER_means_the_single_node_modes_and_the_old_SINGLE_NODE_WRITER_are_accepted(
        Mode mode
    )
    {
        // CSI spec, SINGLE_NODE_MULTI_WRITER: "Plugins MUST accept and allow use of the
        // SINGLE_NODE_WRITER access mode when either SINGLE_NODE_SINGLE_WRITER and/or
        // SINGLE_NODE_MULTI_WRITER are supported".
        if (!Fx.Advertises(ControllerRpc.SingleNodeMultiWriter))
        {
            return;
        }
        var request = Requests.Create(Requests.UniqueName("snmw"));
        request.VolumeCapabilities[0] = Requests.Mount(mode);
        var volume = await Volumes.CreateAsync(request);
        var validate = await Fx.Controller.ValidateVolumeCapabilitiesAsync(
            new ValidateVolumeCapabilitiesRequest
            {
                VolumeId = volume.VolumeId,
                VolumeCapabilities = { Requests.Mount(mode) },
            }
        );
        Assert.NotNull(validate.Confirmed);
    }
}
