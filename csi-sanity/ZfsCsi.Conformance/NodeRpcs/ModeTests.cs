using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;

namespace ZfsCsi.Conformance.NodeRpcs;

/// <summary>
/// CSI spec, "Error Scheme": "Call not implemented | 12 UNIMPLEMENTED | The invoked RPC is not
/// implemented by the Plugin or disabled in the Plugin's current mode of operation." A process
/// started with --mode controller serves no Node RPC.
/// </summary>
public sealed class ModeTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    [Fact]
    [Trait("spec", "Error Scheme")]
    public async Task A_controller_only_process_answers_UNIMPLEMENTED_to_node_rpcs()
    {
        Assert.Equal("controller", Fx.Mode);
        await Rpc.FailsWith(StatusCode.Unimplemented, Fx.Node.NodeGetInfoAsync(new NodeGetInfoRequest()));
        await Rpc.FailsWith(
            StatusCode.Unimplemented,
            Fx.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest())
        );
        await Rpc.FailsWith(
            StatusCode.Unimplemented,
            Fx.Node.NodePublishVolumeAsync(
                new NodePublishVolumeRequest
                {
                    VolumeId = $"{Fx.Pool.Parent}/csan-never-made",
                    TargetPath = Path.Combine(Fx.Pool.RunDirectory, "target"),
                    VolumeCapability = Requests.Mount(),
                }
            )
        );
    }
}
