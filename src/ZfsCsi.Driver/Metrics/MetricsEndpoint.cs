using Prometheus;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Driver.Metrics;

/// <summary>
/// GET /metrics (Prometheus text format) on the <c>--metrics-address</c> listener only, never on the
/// CSI socket, as /readyz and /healthz are kept to theirs. Off unless the flag is given.
/// </summary>
public static class MetricsEndpoint
{
    public static void Map(WebApplication app, DriverOptions options)
    {
        if (options.MetricsEndpoint is not { } endpoint)
        {
            return;
        }
        var registry = app.Services.GetRequiredService<MetricsRegistry>();
        // Made now: its constructor hooks the scrape-time read of the bootstrap's status file.
        _ = app.Services.GetService<BootstrapMetrics>();
        app.MapMetrics("/metrics", registry.Registry).RequireHost($"*:{endpoint.Port}");
    }
}
