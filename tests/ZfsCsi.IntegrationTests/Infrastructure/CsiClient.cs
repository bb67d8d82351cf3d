using System.Net.Sockets;
using Csi.V1;
using Grpc.Net.Client;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>
/// gRPC clients on a unix socket that speak as the kubernetes-csi sidecars and csi-sanity (Go
/// gRPC) do: HTTP/2 without TLS and <c>:authority: localhost</c> (shared/notes/zfs.md).
/// </summary>
public sealed class CsiClient : IDisposable
{
    public CsiClient(string socketPath)
    {
        Channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
        });
        Identity = new Csi.V1.Identity.IdentityClient(Channel);
        Controller = new Csi.V1.Controller.ControllerClient(Channel);
        Node = new Csi.V1.Node.NodeClient(Channel);
        GroupController = new Csi.V1.GroupController.GroupControllerClient(Channel);
    }

    public GrpcChannel Channel { get; }
    public Csi.V1.Identity.IdentityClient Identity { get; }
    public Csi.V1.Controller.ControllerClient Controller { get; }
    public Csi.V1.Node.NodeClient Node { get; }
    public Csi.V1.GroupController.GroupControllerClient GroupController { get; }

    public void Dispose() => Channel.Dispose();
}
