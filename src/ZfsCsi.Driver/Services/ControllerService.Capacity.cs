using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

public sealed partial class ControllerService
{
    /// <summary>
    /// GetCapacity (CSI spec): the same space for every parameter set and topology (every node sees
    /// the whole pool); parameters are still checked, so a StorageClass typo shows up here too.
    /// </summary>
    public override async Task<GetCapacityResponse> GetCapacity(GetCapacityRequest request, ServerCallContext context)
    {
        VolumeParameters.Parse(request.Parameters);
        foreach (var capability in request.VolumeCapabilities)
        {
            CapabilityChecks.RequireSupported(capability);
        }
        var capacity = await volumes.GetCapacityAsync(context.CancellationToken).ConfigureAwait(false);
        return new GetCapacityResponse
        {
            AvailableCapacity = capacity.AvailableBytes,
            MaximumVolumeSize = capacity.MaximumVolumeBytes,
            MinimumVolumeSize = capacity.MinimumVolumeBytes,
        };
    }
}
