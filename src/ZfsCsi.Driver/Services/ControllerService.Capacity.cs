using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

public sealed partial class ControllerService
{
    /// <summary>
    /// GetCapacity (CSI spec): the same space for every parameter set and topology (every node sees
    /// the whole pool); parameters are still checked, so a StorageClass typo shows up here too.
    /// The spec asks for the capacity usable by volumes that satisfy ALL the given capabilities: for
    /// a well-formed one this driver does not serve (block access) that is 0, not an error; a
    /// capability that names no access type or mode is INVALID_ARGUMENT.
    /// </summary>
    public override async Task<GetCapacityResponse> GetCapacity(GetCapacityRequest request, ServerCallContext context)
    {
        VolumeParameters.Parse(request.Parameters);
        var served = true;
        foreach (var capability in request.VolumeCapabilities)
        {
            if (CapabilityChecks.Unsupported(capability) is { } why)
            {
                served = CapabilityChecks.IsWellFormed(capability) ? false : throw new InvalidInputException(why);
            }
        }
        if (!served)
        {
            return new GetCapacityResponse { AvailableCapacity = 0 };
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
