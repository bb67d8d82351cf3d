using Csi.V1;
using Grpc.Net.Client;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>
/// The CSI clients on one unix-socket channel that speaks as the Go sidecars do
/// (<see cref="UnixSocketChannel"/>: h2c, <c>:authority: localhost</c>).
/// </summary>
public sealed class CsiClient(string socketPath) : IDisposable
{
    public GrpcChannel Channel { get; } = UnixSocketChannel.Create(socketPath);
    public Csi.V1.Identity.IdentityClient Identity => new(Channel);
    public Csi.V1.Controller.ControllerClient Controller => new(Channel);
    public Csi.V1.Node.NodeClient Node => new(Channel);
    public Csi.V1.GroupController.GroupControllerClient GroupController => new(Channel);

    public void Dispose() => Channel.Dispose();
}
