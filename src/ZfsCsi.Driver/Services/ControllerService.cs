using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

/// <summary>
/// CSI Controller service, split by concern into partial files (volumes, capacity, capabilities).
/// Each RPC validates its request, takes the volume's lock, calls the domain and builds the
/// response; no argv, parsing or processes here. Errors are mapped by <see cref="ErrorMappingInterceptor"/>.
/// </summary>
public sealed partial class ControllerService(VolumeManager volumes, SnapshotManager snapshots, OperationLocks locks)
    : Controller.ControllerBase
{
    private static Csi.V1.Volume ToCsi(Core.Volumes.Volume volume) =>
        new()
        {
            VolumeId = volume.Id.Value,
            // CSI spec, Volume.volume_context: passed by the CO to every NodePublishVolume of it.
            VolumeContext =
            {
                volume.IsView
                    ? new Dictionary<string, string> { [Views.ContextKey] = "true" }
                    : new Dictionary<string, string>(),
            },
            CapacityBytes = volume.CapacityBytes,
            // CSI spec, CreateVolume: a volume made from a source says so in its response.
            ContentSource = volume.Source switch
            {
                null => null,
                { Kind: ContentSourceKind.Snapshot } s => new VolumeContentSource
                {
                    Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = s.Id },
                },
                var s => new VolumeContentSource
                {
                    Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = s.Id },
                },
            },
        };

    /// <summary>CSI spec, CreateVolume: an empty or unsupported content source is INVALID_ARGUMENT.</summary>
    private static ContentSource? ToDomain(VolumeContentSource? source) =>
        source switch
        {
            null => null,
            { TypeCase: VolumeContentSource.TypeOneofCase.Snapshot } => new(
                ContentSourceKind.Snapshot,
                CapabilityChecks.Required(source.Snapshot.SnapshotId, "volume_content_source.snapshot.snapshot_id")
            ),
            { TypeCase: VolumeContentSource.TypeOneofCase.Volume } => new(
                ContentSourceKind.Volume,
                CapabilityChecks.Required(source.Volume.VolumeId, "volume_content_source.volume.volume_id")
            ),
            _ => throw new InvalidInputException("volume_content_source names neither a snapshot nor a volume"),
        };

    private static Csi.V1.VolumeHealth ToCsi(Core.Volumes.VolumeHealth health)
    {
        var csi = new Csi.V1.VolumeHealth { VolumeId = health.Id.Value };
        csi.HealthStatuses.Add(
            health.Issues.Select(i => new Csi.V1.VolumeHealth.Types.VolumeHealthEntry
            {
                Status = i.Status switch
                {
                    HealthStatus.Degraded => VolumeHealthErrorType.Degraded,
                    HealthStatus.DataLoss => VolumeHealthErrorType.DataLoss,
                    _ => VolumeHealthErrorType.Inaccessible,
                },
                Reason = i.Reason,
                Message = i.Message,
            })
        );
        return csi;
    }

    private static Core.Volumes.CapacityRange ToDomain(Csi.V1.CapacityRange? range) =>
        range is null ? Core.Volumes.CapacityRange.Unspecified : new(range.RequiredBytes, range.LimitBytes);
}
