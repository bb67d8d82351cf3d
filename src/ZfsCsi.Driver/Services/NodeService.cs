using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Mount;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Options;
using NodeRpcType = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Driver.Services;

/// <summary>
/// CSI Node service: bind mounts of the volume's directory under the node's data root into
/// kubelet's target paths (no staging: a directory of a shared filesystem needs none, so no
/// STAGE_UNSTAGE_VOLUME). Validates, locks per volume and target, calls <see cref="NodeVolumes"/>,
/// builds the response. Errors are mapped by <see cref="ErrorMappingInterceptor"/>.
/// </summary>
public sealed partial class NodeService(
    NodeVolumes volumes,
    OperationLocks locks,
    DriverOptions options,
    Core.Metrics.INodeMetrics? metrics = null
) : Node.NodeBase
{
    /// <summary>CSI spec, NodeGetInfo: no topology, since every node sees all of the pool.</summary>
    public override Task<NodeGetInfoResponse> NodeGetInfo(NodeGetInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new NodeGetInfoResponse { NodeId = options.NodeId });

    /// <summary>
    /// What this node plugin serves. No STAGE_UNSTAGE_VOLUME (a directory of a shared filesystem
    /// needs no staging) and no EXPAND_VOLUME (a new refquota shows through the bind at once).
    /// SINGLE_NODE_MULTI_WRITER: the SINGLE_NODE_SINGLE_WRITER and SINGLE_NODE_MULTI_WRITER modes are
    /// understood and enforced on publish (see <see cref="SharingOf"/>).
    /// </summary>
    internal static readonly NodeRpcType[] Capabilities =
    [
        NodeRpcType.GetVolumeStats,
        NodeRpcType.GetVolumeHealth,
        NodeRpcType.SingleNodeMultiWriter,
    ];

    public override Task<NodeGetCapabilitiesResponse> NodeGetCapabilities(
        NodeGetCapabilitiesRequest request,
        ServerCallContext context
    )
    {
        var response = new NodeGetCapabilitiesResponse();
        response.Capabilities.Add(
            Capabilities.Select(type => new NodeServiceCapability
            {
                Rpc = new NodeServiceCapability.Types.RPC { Type = type },
            })
        );
        return Task.FromResult(response);
    }

    /// <summary>
    /// Locks the canonical target path: "T" and "T/" are one target, two volumes published to one
    /// target at once cannot both pass, and the background bind check (<see cref="TargetKey"/>)
    /// never cuts a bind an RPC is making. A second call on a busy target answers ABORTED and the CO
    /// retries (CSI spec, "Concurrency"). The volume is not locked: kubelet publishes one RWX volume
    /// to every pod that uses it, each to its own target, and those publishes must not abort each
    /// other. Only a SINGLE_NODE_SINGLE_WRITER publish locks its volume too (<see cref="VolumeKey"/>).
    /// </summary>
    private IDisposable Lock(string canonicalTarget) => locks.Acquire(TargetKey(canonicalTarget));

    /// <summary>The lock key of a canonical target path, shared with the node's background bind check.</summary>
    public static string TargetKey(string canonicalTarget) => $"node-target:{canonicalTarget}";

    /// <summary>The lock key of a volume on this node: taken only by single-target (SINGLE_NODE_SINGLE_WRITER) publishes.</summary>
    public static string VolumeKey(string volumeId) => $"node-volume:{volumeId}";
}
