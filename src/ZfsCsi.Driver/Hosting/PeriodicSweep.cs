using Microsoft.Extensions.Hosting;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Driver.Hosting;

/// <summary>
/// The controller's sweep (<see cref="VolumeManager.SweepAsync"/>), in the background: soon after a
/// delete asks for one (<see cref="SweepRequests"/>: what the delete freed, such as a kept volume
/// whose last snapshot went, is destroyed within seconds, never inside the delete's deadline), and
/// every <see cref="VolumeOptions.SweepInterval"/> for what no delete will come for: a half-made
/// volume whose CreateVolume the CO gave up on (it never learned the id, CSI spec "CreateVolume"),
/// or a crash's leftovers on a cluster where nothing is deleted for weeks. The sweep takes each
/// volume's lock without waiting and never throws. A sweep while the bootstrap is not ready is
/// skipped: on OpenZFS any zfs command would load the zfs module, which is the bootstrap's to load
/// (it may be rebuilding it right then).
/// </summary>
public sealed class PeriodicSweep(
    VolumeManager volumes,
    SweepRequests requests,
    VolumeOptions options,
    Serilog.ILogger logger,
    BootstrapReadiness? bootstrap = null
) : BackgroundService
{
    /// <summary>How long a requested sweep waits, so that a burst of deletes (a namespace going) costs one sweep, not one each.</summary>
    public static readonly TimeSpan RequestDelay = TimeSpan.FromSeconds(2);

    private readonly Serilog.ILogger _log = logger.ForContext<PeriodicSweep>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.SweepInterval == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : options.SweepInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var requested = await requests.WaitAsync(interval, stoppingToken).ConfigureAwait(false);
                if (requested)
                {
                    await Task.Delay(RequestDelay, stoppingToken).ConfigureAwait(false);
                }
                // Requests made until now are served by this sweep.
                requests.TryTake();
                var started = System.Diagnostics.Stopwatch.StartNew();
                if (
                    bootstrap is not null
                    && await bootstrap.CheckAsync(stoppingToken).ConfigureAwait(false) is { Ready: false } waiting
                )
                {
                    _log.Debug("Sweep skipped: {Reason}", waiting.Reason);
                    continue;
                }
                await volumes.SweepAsync(stoppingToken).ConfigureAwait(false);
                _log.Debug(
                    "Sweep of {ParentDataset} ({Trigger}) took {DurationMs:F0} ms",
                    options.ParentDataset,
                    requested ? "requested by a delete" : "periodic",
                    started.Elapsed.TotalMilliseconds
                );
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // An exception leaving a BackgroundService stops the whole host: the controller
                // must keep serving, and the next request or tick tries again.
                _log.Warning(
                    e,
                    "Sweep of {ParentDataset} failed; retried at the next request or in {IntervalSeconds} s",
                    options.ParentDataset,
                    options.SweepInterval.TotalSeconds
                );
            }
        }
    }
}
