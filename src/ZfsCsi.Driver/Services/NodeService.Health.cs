using Csi.V1;
using Grpc.Core;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

public sealed partial class NodeService
{
    /// <summary>
    /// CSI spec, NodeGetVolumeStats: bytes and inodes of the published volume as its pod sees them.
    /// Both REQUIRED fields are checked before the id is looked at: an id that names no volume and
    /// no volume_path is INVALID_ARGUMENT, not NOT_FOUND (csi-sanity: "should fail when no volume
    /// path is provided").
    /// </summary>
    public override async Task<NodeGetVolumeStatsResponse> NodeGetVolumeStats(
        NodeGetVolumeStatsRequest request,
        ServerCallContext context
    )
    {
        CapabilityChecks.Required(request.VolumeId, "volume_id");
        CapabilityChecks.Required(request.VolumePath, "volume_path");
        var id = volumes.ParseId(request.VolumeId);
        Core.Mount.FsStats stats;
        try
        {
            stats = await volumes
                .GetStatsAsync(id, request.VolumePath, context.CancellationToken)
                .ConfigureAwait(false);
        }
        catch (Core.Errors.ZfsCsiException e) when (metrics is not null)
        {
            // Counted per volume (an id of ours: ParseId passed), so a fenced or dead bind shows
            // which volume kubelet cannot measure; the error itself still goes to the mapping.
            metrics.VolumeStatsFailed(id, e.Kind);
            throw;
        }
        var response = new NodeGetVolumeStatsResponse();
        response.Usage.Add(
            new VolumeUsage
            {
                Unit = VolumeUsage.Types.Unit.Bytes,
                Total = stats.TotalBytes,
                Available = stats.AvailableBytes,
                Used = stats.UsedBytes,
            }
        );
        response.Usage.Add(
            new VolumeUsage
            {
                Unit = VolumeUsage.Types.Unit.Inodes,
                Total = stats.TotalInodes,
                Available = stats.FreeInodes,
                Used = stats.UsedInodes,
            }
        );
        return response;
    }

    /// <summary>
    /// CSI spec, NodeGetVolumeHealth (alpha, GET_VOLUME_HEALTH): what CSI 1.13 has instead of the
    /// removed VolumeCondition. No entries means healthy.
    /// </summary>
    public override async Task<NodeGetVolumeHealthResponse> NodeGetVolumeHealth(
        NodeGetVolumeHealthRequest request,
        ServerCallContext context
    )
    {
        var id = volumes.ParseId(CapabilityChecks.Required(request.VolumeId, "volume_id"));
        var health = await volumes
            .GetHealthAsync(id, request.VolumePublishPath, context.CancellationToken)
            .ConfigureAwait(false);
        return new NodeGetVolumeHealthResponse { VolumeHealth = ToCsi(health) };
    }

    private static Csi.V1.VolumeHealth ToCsi(Core.Volumes.VolumeHealth health)
    {
        var csi = new Csi.V1.VolumeHealth { VolumeId = health.Id.Value };
        // The node reports only what it can see: the volume is reachable from here or not.
        csi.HealthStatuses.Add(
            health.Issues.Select(i => new Csi.V1.VolumeHealth.Types.VolumeHealthEntry
            {
                Status = VolumeHealthErrorType.Inaccessible,
                Reason = i.Reason,
                Message = i.Message,
            })
        );
        return csi;
    }
}
