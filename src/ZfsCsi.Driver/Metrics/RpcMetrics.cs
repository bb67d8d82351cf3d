using Grpc.Core;
using Prometheus;

namespace ZfsCsi.Driver.Metrics;

/// <summary>
/// Every CSI RPC's duration by method and the status code the caller got, in the shape of the
/// kubernetes-csi sidecars' <c>csi_sidecar_operations_seconds</c>: the histogram's _count is the
/// per-method, per-code count. Recorded by <see cref="Grpc.RpcLoggingInterceptor"/> beside its log event.
/// </summary>
public sealed class RpcMetrics(MetricsRegistry metrics)
{
    /// <summary>From a few milliseconds (Probe, a cached lookup) to the ten minutes a sidecar waits at most.</summary>
    internal static readonly double[] Buckets =
    [
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
        60,
        120,
        300,
        600,
    ];

    private readonly Histogram _operations = metrics.Factory.CreateHistogram(
        "zfs_csi_operations_seconds",
        "Duration of CSI RPCs served, by gRPC method and the status code answered.",
        ["method", "grpc_status_code"],
        new HistogramConfiguration { Buckets = Buckets }
    );

    /// <param name="method">The full gRPC method (/csi.v1.Controller/CreateVolume): a fixed set, as only mapped services reach the interceptors.</param>
    public void Observe(string method, StatusCode code, TimeSpan elapsed) =>
        _operations.WithLabels(method, code.ToString()).Observe(elapsed.TotalSeconds);
}
