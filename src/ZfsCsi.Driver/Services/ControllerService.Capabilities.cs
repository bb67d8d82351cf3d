using Csi.V1;
using Grpc.Core;
using RpcType = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Driver.Services;

public sealed partial class ControllerService
{
    /// <summary>
    /// What this controller serves. No PUBLISH_UNPUBLISH: there is nothing to attach, every node
    /// already sees the pool through /data. RPCs not listed answer UNIMPLEMENTED (the generated base).
    /// </summary>
    internal static readonly RpcType[] Capabilities =
    [
        RpcType.CreateDeleteVolume,
        RpcType.ExpandVolume,
        RpcType.ListVolumes,
        RpcType.GetCapacity,
        RpcType.GetVolume,
        RpcType.GetVolumeHealth,
        RpcType.ListVolumeHealth,
        RpcType.SingleNodeMultiWriter,
        RpcType.CreateDeleteSnapshot,
        RpcType.ListSnapshots,
        RpcType.CloneVolume,
        RpcType.GetSnapshot,
        RpcType.ModifyVolume,
    ];

    public override Task<ControllerGetCapabilitiesResponse> ControllerGetCapabilities(
        ControllerGetCapabilitiesRequest request,
        ServerCallContext context
    )
    {
        var response = new ControllerGetCapabilitiesResponse();
        response.Capabilities.Add(
            Capabilities.Select(type => new ControllerServiceCapability
            {
                Rpc = new ControllerServiceCapability.Types.RPC { Type = type },
            })
        );
        return Task.FromResult(response);
    }
}
