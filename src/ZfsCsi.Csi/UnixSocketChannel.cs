using System.Net.Sockets;
using Grpc.Net.Client;

namespace Csi.V1;

/// <summary>
/// A gRPC channel to a CSI endpoint on a unix socket that speaks as the kubernetes-csi sidecars
/// and csi-sanity (Go gRPC clients) do: HTTP/2 without TLS and <c>:authority: localhost</c>.
/// </summary>
public static class UnixSocketChannel
{
    /// <param name="endpoint">A socket path, or a CSI endpoint URL such as <c>unix:///csi/csi.sock</c>.</param>
    public static GrpcChannel Create(string endpoint)
    {
        var path =
            endpoint.StartsWith("unix://", StringComparison.Ordinal) ? endpoint["unix://".Length..]
            : endpoint.StartsWith("unix:", StringComparison.Ordinal) ? endpoint["unix:".Length..]
            : endpoint;
        return GrpcChannel.ForAddress(
            "http://localhost",
            new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    ConnectCallback = async (_, ct) =>
                    {
                        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        try
                        {
                            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                            return new NetworkStream(socket, ownsSocket: true);
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }
                    },
                },
            }
        );
    }
}
