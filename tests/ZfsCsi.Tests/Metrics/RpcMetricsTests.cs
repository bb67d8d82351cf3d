using Csi.V1;
using Grpc.Core;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Metrics;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Metrics;

public sealed class RpcMetricsTests
{
    [Fact]
    public async Task The_logging_interceptor_records_each_rpc_once_by_method_and_the_code_the_caller_gets()
    {
        var registry = new MetricsRegistry();
        var sink = new InMemorySink();
        var interceptor = new RpcLoggingInterceptor(sink.CreateLogger(), new RpcMetrics(registry));

        await interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
            new CreateVolumeRequest { Name = "pvc-1" },
            new TestServerCallContext(),
            (_, _) => Task.FromResult(new CreateVolumeResponse())
        );
        await interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
            new CreateVolumeRequest { Name = "pvc-2" },
            new TestServerCallContext(),
            (_, _) => Task.FromResult(new CreateVolumeResponse())
        );
        await Assert.ThrowsAsync<RpcException>(() =>
            interceptor.UnaryServerHandler<DeleteVolumeRequest, DeleteVolumeResponse>(
                new DeleteVolumeRequest { VolumeId = "data/k8s/pvc-1" },
                new TestServerCallContext("/csi.v1.Controller/DeleteVolume"),
                (_, _) => throw new RpcException(new Status(StatusCode.FailedPrecondition, "in use"))
            )
        );

        var scrape = Exposition.Parse(await registry.ExportAsync());
        Assert.Equal("histogram", scrape.Types["zfs_csi_operations_seconds"]);
        Assert.Equal(
            2,
            scrape.Value(
                "zfs_csi_operations_seconds_count",
                ("method", "/csi.v1.Controller/CreateVolume"),
                ("grpc_status_code", "OK")
            )
        );
        Assert.Equal(
            1,
            scrape.Value(
                "zfs_csi_operations_seconds_count",
                ("method", "/csi.v1.Controller/DeleteVolume"),
                ("grpc_status_code", "FailedPrecondition")
            )
        );
        Assert.Equal(
            2,
            scrape.Value(
                "zfs_csi_operations_seconds_bucket",
                ("method", "/csi.v1.Controller/CreateVolume"),
                ("grpc_status_code", "OK"),
                ("le", "+Inf")
            )
        );
        // The log still has its one event per RPC: the metric is beside it, not instead.
        Assert.Equal(3, sink.Events.Count);
    }
}
