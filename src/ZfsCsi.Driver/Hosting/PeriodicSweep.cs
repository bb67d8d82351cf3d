using Microsoft.Extensions.Hosting;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Driver.Hosting;

/// <summary>
/// The controller's own sweep every <see cref="VolumeOptions.SweepInterval"/>. Deletes already
/// sweep after themselves; this catches what no delete will come for: a half-made volume whose
/// CreateVolume the CO gave up on (it never learned the id, CSI spec "CreateVolume"), or a crash's
/// leftovers on a cluster where nothing is deleted for weeks. The sweep takes each volume's lock
/// without waiting and never throws (<see cref="VolumeManager.SweepAsync"/>). A tick while the
/// bootstrap is not ready is skipped: on OpenZFS any zfs command would load the zfs module, which
/// is the bootstrap's to load (it may be rebuilding it right then).
/// </summary>
public sealed class PeriodicSweep(VolumeManager volumes, VolumeOptions options, Serilog.ILogger logger, BootstrapReadiness? bootstrap = null) : BackgroundService
{
    private readonly Serilog.ILogger _log = logger.ForContext<PeriodicSweep>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.SweepInterval == TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.SweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                if (bootstrap is not null && await bootstrap.CheckAsync(stoppingToken).ConfigureAwait(false) is { Ready: false } waiting)
                {
                    _log.Debug("Periodic sweep skipped: {Reason}", waiting.Reason);
                    continue;
                }
                await volumes.SweepAsync(stoppingToken).ConfigureAwait(false);
                _log.Debug("Periodic sweep of {ParentDataset} took {DurationMs:F0} ms", options.ParentDataset, started.Elapsed.TotalMilliseconds);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // An exception leaving a BackgroundService stops the whole host: the controller
                // must keep serving, and the next tick tries again.
                _log.Warning(e, "Periodic sweep of {ParentDataset} failed; retried in {IntervalSeconds} s", options.ParentDataset, options.SweepInterval.TotalSeconds);
            }
        }
    }
}
