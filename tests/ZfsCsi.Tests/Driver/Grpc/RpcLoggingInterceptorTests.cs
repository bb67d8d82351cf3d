using Csi.V1;
using Grpc.Core;
using Serilog.Events;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Driver.Grpc;

public sealed class RpcLoggingInterceptorTests
{
    private const string Secret = "hunter2-s3cr3t-value";
    private readonly InMemorySink _sink = new();

    private RpcLoggingInterceptor Interceptor => new(_sink.CreateLogger());

    private static CreateVolumeRequest Request()
    {
        var request = new CreateVolumeRequest { Name = "pvc-1" };
        request.Secrets.Add("password", Secret);
        request.Secrets.Add(Secret, "key-is-secret-too");
        request.Parameters.Add("compression", "lz4");
        return request;
    }

    [Fact]
    public async Task A_successful_rpc_is_one_event_with_method_ids_duration_and_status()
    {
        await Interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
            Request(),
            new TestServerCallContext(),
            (_, _) => Task.FromResult(new CreateVolumeResponse())
        );

        var e = Assert.Single(_sink.Events);
        Assert.Equal(LogEventLevel.Information, e.Level);
        Assert.Equal("\"/csi.v1.Controller/CreateVolume\"", e.Properties["Method"].ToString());
        var ids = Assert.IsType<DictionaryValue>(e.Properties["Ids"]);
        Assert.Equal("\"pvc-1\"", Assert.Single(ids.Elements).Value.ToString());
        Assert.Equal("name", Assert.Single(ids.Elements).Key.Value);
        Assert.IsType<double>(Assert.IsType<ScalarValue>(e.Properties["DurationMs"]).Value);
        Assert.Equal(StatusCode.OK, Assert.IsType<ScalarValue>(e.Properties["StatusCode"]).Value);
    }

    [Fact]
    public async Task A_failed_rpc_is_one_warning_with_the_status_the_caller_gets()
    {
        var request = new DeleteVolumeRequest { VolumeId = "data/k8s/pvc-1" };
        request.Secrets.Add("token", Secret);

        await Assert.ThrowsAsync<RpcException>(() =>
            Interceptor.UnaryServerHandler<DeleteVolumeRequest, DeleteVolumeResponse>(
                request,
                new TestServerCallContext("/csi.v1.Controller/DeleteVolume"),
                (_, _) => throw new RpcException(new Status(StatusCode.FailedPrecondition, "in use"))
            )
        );

        var e = Assert.Single(_sink.Events);
        Assert.Equal(LogEventLevel.Warning, e.Level);
        Assert.Equal(StatusCode.FailedPrecondition, Assert.IsType<ScalarValue>(e.Properties["StatusCode"]).Value);
        Assert.Contains("volume_id", e.Properties["Ids"].ToString());
        Assert.Contains("data/k8s/pvc-1", e.Properties["Ids"].ToString());
        Assert.DoesNotContain(_sink.Events.SelectMany(InMemorySink.AllText), t =>
            t.Contains(Secret, StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task The_secrets_map_never_reaches_a_log_event()
    {
        await Interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
            Request(),
            new TestServerCallContext(),
            (_, _) => Task.FromResult(new CreateVolumeResponse())
        );
        await Assert.ThrowsAsync<RpcException>(() =>
            Interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
                Request(),
                new TestServerCallContext(),
                (_, _) => throw new RpcException(new Status(StatusCode.AlreadyExists, "exists"))
            )
        );

        Assert.Equal(2, _sink.Events.Count);
        Assert.All(_sink.Events.SelectMany(InMemorySink.AllText), t =>
        {
            Assert.DoesNotContain(Secret, t, StringComparison.Ordinal);
            Assert.DoesNotContain("key-is-secret-too", t, StringComparison.Ordinal);
            Assert.DoesNotContain("password", t, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Parameters_and_contexts_are_not_logged_either()
    {
        await Interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
            Request(),
            new TestServerCallContext(),
            (_, _) => Task.FromResult(new CreateVolumeResponse())
        );

        Assert.DoesNotContain(_sink.Events.SelectMany(InMemorySink.AllText), t =>
            t.Contains("lz4", StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task The_message_is_a_template_not_an_interpolated_string()
    {
        await Interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
            Request(),
            new TestServerCallContext(),
            (_, _) => Task.FromResult(new CreateVolumeResponse())
        );

        var e = Assert.Single(_sink.Events);
        Assert.DoesNotContain("pvc-1", e.MessageTemplate.Text);
        Assert.Contains("{Method}", e.MessageTemplate.Text);
    }

    [Fact]
    public async Task A_request_without_ids_logs_empty_ids()
    {
        await Interceptor.UnaryServerHandler<GetCapacityRequest, GetCapacityResponse>(
            new GetCapacityRequest(),
            new TestServerCallContext("/csi.v1.Controller/GetCapacity"),
            (_, _) => Task.FromResult(new GetCapacityResponse())
        );

        var ids = Assert.IsType<DictionaryValue>(Assert.Single(_sink.Events).Properties["Ids"]);
        Assert.Empty(ids.Elements);
    }
}
