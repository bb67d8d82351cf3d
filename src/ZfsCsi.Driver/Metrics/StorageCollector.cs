using System.Diagnostics;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Metrics;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Driver.Metrics;

/// <summary>
/// Refreshes <see cref="StorageMetrics"/> every <see cref="DriverOptions.MetricsInterval"/> (and once at
/// start) from one <see cref="StorageSampler"/> read: a scrape never runs a command, and the
/// number of processes per interval does not grow with the number of volumes. Like the periodic
/// sweep, a tick while the bootstrap is not ready touches no ZFS (on OpenZFS any zfs command
/// loads the module, which is the bootstrap's to load). Never throws: a failed read is logged,
/// marked in the metrics and tried again next tick.
/// </summary>
public sealed class StorageCollector(
    StorageSampler sampler,
    StorageMetrics metrics,
    DriverOptions options,
    Serilog.ILogger logger,
    BootstrapReadiness? bootstrap = null
) : BackgroundService
{
    private readonly Serilog.ILogger _log = logger.ForContext<StorageCollector>();
    private bool _lastFailed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.MetricsInterval);
        do
        {
            await CollectOnceAsync(stoppingToken).ConfigureAwait(false);
        } while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One collection; true when the metrics were refreshed.</summary>
    public async Task<bool> CollectOnceAsync(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (
                bootstrap is not null
                && await bootstrap.CheckAsync(ct).ConfigureAwait(false) is { Ready: false } waiting
            )
            {
                _log.Debug("Storage metrics not collected: {Reason}", waiting.Reason);
                metrics.Failed();
                return false;
            }
            var sample = await sampler.SampleAsync(ct).ConfigureAwait(false);
            var took = Stopwatch.GetElapsedTime(started);
            metrics.Publish(sample, took);
            if (_lastFailed)
            {
                _log.Information(
                    "Storage metrics collected again ({Volumes} volumes in {DurationMs:F0} ms)",
                    sample.Volumes.Count,
                    took.TotalMilliseconds
                );
            }
            _lastFailed = false;
            return true;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            metrics.Failed();
            // Once per failing stretch at Warning: a pool that stays away must not fill the log every interval.
            _log.Write(
                _lastFailed ? Serilog.Events.LogEventLevel.Debug : Serilog.Events.LogEventLevel.Warning,
                "Storage metrics of {ParentDataset} not collected: {Reason}; retried every {IntervalSeconds} s",
                options.Volumes.ParentDataset,
                e.Message,
                options.MetricsInterval.TotalSeconds
            );
            _lastFailed = true;
            return false;
        }
    }
}
