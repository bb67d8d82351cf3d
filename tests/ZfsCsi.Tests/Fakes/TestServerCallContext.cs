using Grpc.Core;

namespace ZfsCsi.Tests.Fakes;

/// <summary>The least a <see cref="ServerCallContext"/> needs, to call interceptors and services directly.</summary>
public sealed class TestServerCallContext(
    string method = "/csi.v1.Controller/CreateVolume",
    CancellationToken cancellationToken = default
) : ServerCallContext
{
    private readonly Metadata _trailers = [];

    protected override string MethodCore => method;
    protected override string HostCore => "localhost";
    protected override string PeerCore => "unix:/csi/csi.sock";
    protected override DateTime DeadlineCore => DateTime.MaxValue;
    protected override Metadata RequestHeadersCore => [];
    protected override CancellationToken CancellationTokenCore => cancellationToken;
    protected override Metadata ResponseTrailersCore => _trailers;
    protected override Status StatusCore { get; set; }
    protected override WriteOptions? WriteOptionsCore { get; set; }
    protected override AuthContext AuthContextCore => new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
