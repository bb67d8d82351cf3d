using Csi.V1;
using Grpc.Core;
using Serilog.Events;
using ZfsCsi.Core.Errors;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Driver.Grpc;

/// <summary>Logging outside error mapping, as DriverHost registers them: the log shows the code the caller gets.</summary>
public sealed class InterceptorChainTests
{
    private readonly InMemorySink _sink = new();

    private Task<CreateVolumeResponse> Call(UnaryServerMethod<CreateVolumeRequest, CreateVolumeResponse> service)
    {
        var logger = _sink.CreateLogger();
        var mapping = new ErrorMappingInterceptor(logger);
        var logging = new RpcLoggingInterceptor(logger);
        var context = new TestServerCallContext();
        return logging.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
            new CreateVolumeRequest { Name = "pvc-1" },
            context,
            (r, c) => mapping.UnaryServerHandler(r, c, service)
        );
    }

    [Fact]
    public async Task A_domain_failure_is_logged_once_with_its_mapped_status()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            Call((_, _) => throw new AlreadyExistsException("exists with other parameters"))
        );

        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        var logged = Assert.Single(_sink.Events);
        Assert.Equal(StatusCode.AlreadyExists, Assert.IsType<ScalarValue>(logged.Properties["StatusCode"]).Value);
        Assert.Equal("\"exists with other parameters\"", logged.Properties["Detail"].ToString());
    }

    [Fact]
    public async Task A_bug_is_logged_as_an_error_and_as_the_internal_status_the_caller_gets()
    {
        await Assert.ThrowsAsync<RpcException>(() => Call((_, _) => throw new InvalidOperationException("bug")));

        Assert.Equal(2, _sink.Events.Count);
        Assert.Contains(_sink.Events, e => e.Level == LogEventLevel.Error && e.Exception is InvalidOperationException);
        Assert.Contains(_sink.Events, e =>
            e.Properties.TryGetValue("StatusCode", out var code)
            && Equals(((ScalarValue)code).Value, StatusCode.Internal)
        );
    }
}
