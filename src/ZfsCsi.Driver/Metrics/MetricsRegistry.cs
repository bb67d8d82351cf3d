using Prometheus;

namespace ZfsCsi.Driver.Metrics;

/// <summary>
/// The one collector registry of a driver process, served on /metrics. A registry of its own rather
/// than prometheus-net's static default: a test host (or two in one process) gets exactly the series
/// its driver recorded, and nothing prometheus-net adds by itself (its meter and event-counter
/// adapters start only with the default registry) costs start-up time or memory.
/// </summary>
public sealed class MetricsRegistry
{
    public MetricsRegistry()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        Factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        // process_* and dotnet_*: resident memory, CPU, GC counts, for the footprint targets of issue 12.
        DotNetStats.Register(Registry);
    }

    public CollectorRegistry Registry { get; }

    public IMetricFactory Factory { get; }

    /// <summary>The exposition as a scrape would get it (text format 0.0.4), for tests and logs.</summary>
    public async Task<string> ExportAsync(CancellationToken ct = default)
    {
        using var stream = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(stream, ct).ConfigureAwait(false);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
