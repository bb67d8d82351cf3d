using Csi.V1;
using Grpc.Core;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

public sealed partial class ControllerService
{
    public override async Task<ControllerGetVolumeHealthResponse> ControllerGetVolumeHealth(
        ControllerGetVolumeHealthRequest request,
        ServerCallContext context
    )
    {
        var id = CapabilityChecks.Required(request.VolumeId, "volume_id");
        var health = await volumes.GetHealthAsync(id, context.CancellationToken).ConfigureAwait(false);
        return new ControllerGetVolumeHealthResponse { VolumeHealth = ToCsi(health) };
    }

    /// <summary>CSI spec, ControllerListVolumeHealth: only abnormal volumes are listed.</summary>
    public override async Task<ControllerListVolumeHealthResponse> ControllerListVolumeHealth(
        ControllerListVolumeHealthRequest request,
        ServerCallContext context
    )
    {
        var page = await volumes
            .ListHealthAsync(request.MaxEntries, request.StartingToken, context.CancellationToken)
            .ConfigureAwait(false);
        var response = new ControllerListVolumeHealthResponse { NextToken = page.NextToken ?? "" };
        response.Entries.Add(page.Entries.Select(ToCsi));
        return response;
    }
}
