using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

/// <summary>
/// CSI Controller service, split by concern into partial files (volumes, capacity, capabilities).
/// Each RPC validates its request, takes the volume's lock, calls the domain and builds the
/// response; no argv, parsing or processes here. Errors are mapped by <see cref="ErrorMappingInterceptor"/>.
/// </summary>
public sealed partial class ControllerService(VolumeManager volumes, OperationLocks locks) : Controller.ControllerBase
{
    private static Csi.V1.Volume ToCsi(Core.Volumes.Volume volume) => new()
    {
        VolumeId = volume.Id.Value,
        CapacityBytes = volume.CapacityBytes,
    };

    private static Csi.V1.VolumeHealth ToCsi(Core.Volumes.VolumeHealth health)
    {
        var csi = new Csi.V1.VolumeHealth { VolumeId = health.Id.Value };
        csi.HealthStatuses.Add(health.Issues.Select(i => new Csi.V1.VolumeHealth.Types.VolumeHealthEntry
        {
            Status = i.Status switch
            {
                HealthStatus.Degraded => VolumeHealthErrorType.Degraded,
                HealthStatus.DataLoss => VolumeHealthErrorType.DataLoss,
                _ => VolumeHealthErrorType.Inaccessible,
            },
            Reason = i.Reason,
            Message = i.Message,
        }));
        return csi;
    }

    private static Core.Volumes.CapacityRange ToDomain(Csi.V1.CapacityRange? range) =>
        range is null ? Core.Volumes.CapacityRange.Unspecified : new(range.RequiredBytes, range.LimitBytes);
}
