using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

public sealed partial class NodeService
{
    /// <summary>
    /// CSI spec, NodePublishVolume. staging_target_path is ignored: no STAGE_UNSTAGE_VOLUME. Every
    /// field (the REQUIRED ones, the capability, the mount flags, the target path and its size) is
    /// checked before the id is looked at or a lock taken: a bad request is INVALID_ARGUMENT
    /// whatever volume it names.
    /// </summary>
    public override async Task<NodePublishVolumeResponse> NodePublishVolume(
        NodePublishVolumeRequest request,
        ServerCallContext context
    )
    {
        CapabilityChecks.Required(request.VolumeId, "volume_id");
        CapabilityChecks.Required(request.TargetPath, "target_path");
        if (request.VolumeCapability is null)
        {
            throw new InvalidInputException("volume_capability is required");
        }
        CapabilityChecks.RequireSupported(request.VolumeCapability);
        var view =
            request.VolumeContext.TryGetValue(Core.Volumes.Views.ContextKey, out var viewValue) && viewValue == "true";
        if (view && !CapabilityChecks.IsReaderOnly(request.VolumeCapability))
        {
            // CSI spec, NodePublishVolume errors: "Exceeds capabilities: FAILED_PRECONDITION, the CO
            // has exceeded the volume's capabilities". A view (its volume_context says so; the spec
            // makes the CO pass the volume's own) is its snapshot: it has no writer capability.
            throw new FailedPreconditionException(
                $"volume {Printable.Of(request.VolumeId)} is a read-only view of a snapshot and cannot be published with the writer access mode {request.VolumeCapability.AccessMode.Mode}; "
                    + "use ReadOnlyMany (MULTI_NODE_READER_ONLY) or SINGLE_NODE_READER_ONLY, or restore the snapshot as a clone (StorageClass view: never) for a writable volume"
            );
        }
        // A view is bound read-only whatever readonly says (kubelet sends readonly=false for a
        // ReadOnlyMany PVC whose pod does not set readOnly); its dataset is readonly=on besides.
        var flags = MountFlags.Parse(
            request.VolumeCapability.Mount.MountFlags,
            request.Readonly || view || IsReadOnlyMode(request.VolumeCapability)
        );
        var target = volumes.CheckTarget(request.TargetPath, "target_path");
        var sharing = SharingOf(request.VolumeCapability);
        var id = volumes.ParseId(request.VolumeId);
        // A single-target publish also locks the volume: two of them to different targets at once
        // would each find the other's target still empty.
        using var _ =
            sharing == TargetSharing.SingleTarget
                ? ControllerService.AcquireAll(locks, [TargetKey(target), VolumeKey(id.Value)])
                : Lock(target);
        await volumes.PublishAsync(id, target, flags, sharing, context.CancellationToken).ConfigureAwait(false);
        return new NodePublishVolumeResponse();
    }

    /// <summary>
    /// CSI spec, NodePublishVolume (SINGLE_NODE_MULTI_WRITER advertised): SINGLE_NODE_SINGLE_WRITER is
    /// one target per node, SINGLE_NODE_MULTI_WRITER and MULTI_NODE_* any number. SINGLE_NODE_WRITER
    /// and SINGLE_NODE_READER_ONLY stay shared, as before the new modes: COs that do not send them
    /// (Kubernetes for ReadWriteOnce before SINGLE_NODE_MULTI_WRITER) publish one such volume to
    /// every pod on the node that uses it.
    /// </summary>
    private static TargetSharing SharingOf(VolumeCapability capability) =>
        capability.AccessMode.Mode == VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeSingleWriter
            ? TargetSharing.SingleTarget
            : TargetSharing.Shared;

    /// <summary>CSI spec, NodeUnpublishVolume: OK when the target is not mounted or does not exist.</summary>
    public override async Task<NodeUnpublishVolumeResponse> NodeUnpublishVolume(
        NodeUnpublishVolumeRequest request,
        ServerCallContext context
    )
    {
        CapabilityChecks.Required(request.VolumeId, "volume_id");
        CapabilityChecks.Required(request.TargetPath, "target_path");
        var target = volumes.CheckTarget(request.TargetPath, "target_path");
        // Unpublish does not need the id to be ours: a foreign one has nothing here.
        using var _ = Lock(target);
        await volumes.UnpublishAsync(target, context.CancellationToken).ConfigureAwait(false);
        return new NodeUnpublishVolumeResponse();
    }

    /// <summary>Read-only access modes make the bind read-only even when readonly is false.</summary>
    private static bool IsReadOnlyMode(VolumeCapability capability) =>
        capability.AccessMode.Mode
            is VolumeCapability.Types.AccessMode.Types.Mode.MultiNodeReaderOnly
                or VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeReaderOnly;
}
