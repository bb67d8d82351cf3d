using Prometheus;
using ZfsCsi.Core.Bootstrap;

namespace ZfsCsi.Driver.Metrics;

/// <summary>
/// What the bootstrap's status file says, read at each scrape (one small file, no command): its
/// state, the step it is at, its heartbeat, and the last module load and rebuild with their
/// durations. The driver exports the bootstrap because the bootstrap has no endpoint of its own.
/// </summary>
public sealed class BootstrapMetrics
{
    private readonly BootstrapReadiness _bootstrap;
    private readonly Lock _gate = new();
    private string? _step;

    private readonly Gauge _present;
    private readonly Gauge _state;
    private readonly Gauge _stepInfo;
    private readonly Gauge _stepRunning;
    private readonly Gauge _stepStarted;
    private readonly Gauge _heartbeat;
    private readonly Gauge _moduleLoaded;
    private readonly Gauge _moduleLoadSeconds;
    private readonly Gauge _moduleRebuilt;
    private readonly Gauge _moduleRebuildSeconds;

    public BootstrapMetrics(MetricsRegistry metrics, BootstrapReadiness bootstrap)
    {
        _bootstrap = bootstrap;
        var f = metrics.Factory;
        _present = f.CreateGauge(
            "zfs_csi_bootstrap_status_present",
            "1 when the bootstrap's status file exists and reads; 0 when it is missing or unreadable (the other bootstrap series then keep their last values)."
        );
        _state = f.CreateGauge(
            "zfs_csi_bootstrap_state",
            "1 for the bootstrap's state (checking, rebuilding, importing, ready, failed), 0 for the others.",
            ["state"]
        );
        _stepInfo = f.CreateGauge(
            "zfs_csi_bootstrap_step_info",
            "1 for the bootstrap's current (or last) step, by its command without arguments (zpool import, make, ./configure, modprobe zfs).",
            ["step"]
        );
        _stepRunning = f.CreateGauge("zfs_csi_bootstrap_step_running", "1 while a bootstrap step is running.");
        _stepStarted = f.CreateGauge(
            "zfs_csi_bootstrap_step_started_timestamp_seconds",
            "When the running step started (Unix time); 0 between steps."
        );
        _heartbeat = f.CreateGauge(
            "zfs_csi_bootstrap_heartbeat_timestamp_seconds",
            "The bootstrap's last heartbeat (Unix time): a watch sidecar refreshes it even during a long build."
        );
        _moduleLoaded = f.CreateGauge(
            "zfs_csi_bootstrap_module_load_timestamp_seconds",
            "When the bootstrap last loaded the zfs module (Unix time); 0: not since it started."
        );
        _moduleLoadSeconds = f.CreateGauge(
            "zfs_csi_bootstrap_module_load_duration_seconds",
            "How long the last module load (modprobe zfs) took."
        );
        _moduleRebuilt = f.CreateGauge(
            "zfs_csi_bootstrap_module_rebuild_timestamp_seconds",
            "When the bootstrap last finished rebuilding the zfs module (Unix time); 0: not since it started."
        );
        _moduleRebuildSeconds = f.CreateGauge(
            "zfs_csi_bootstrap_module_rebuild_duration_seconds",
            "How long the last module rebuild took, retries included."
        );
        metrics.Registry.AddBeforeCollectCallback(RefreshAsync);
    }

    /// <summary>Reads the status file and sets every series from it; called before each scrape.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        BootstrapStatus? status;
        try
        {
            status = await BootstrapStatusFile.ReadAsync(_bootstrap.StatusFile, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            status = null;
        }
        lock (_gate)
        {
            _present.Set(status is null ? 0 : 1);
            if (status is null)
            {
                return;
            }
            foreach (var state in Enum.GetValues<BootstrapState>())
            {
                _state.WithLabels(Name(state)).Set(state == status.State ? 1 : 0);
            }
            var step = StepLabel(status.RunningStep.Length > 0 ? status.RunningStep : status.Step);
            if (_step is not null && _step != step)
            {
                _stepInfo.WithLabels(_step).Remove();
            }
            if (step.Length > 0)
            {
                _stepInfo.WithLabels(step).Set(1);
            }
            _step = step.Length > 0 ? step : null;
            _stepRunning.Set(status.RunningStep.Length > 0 ? 1 : 0);
            _stepStarted.Set(Seconds(status.StepStarted));
            _heartbeat.Set(Seconds(status.Heartbeat));
            _moduleLoaded.Set(Seconds(status.ModuleLoaded));
            _moduleLoadSeconds.Set(status.ModuleLoadSeconds ?? 0);
            _moduleRebuilt.Set(Seconds(status.ModuleRebuilt));
            _moduleRebuildSeconds.Set(status.ModuleRebuildSeconds ?? 0);
        }
    }

    /// <summary>
    /// A step as a label: its command and a plain word after it ("zpool import", "make install",
    /// "modprobe zfs"), never its arguments ("make -j2" is "make", "./configure --with-linux=…" is
    /// "./configure"), so a new kernel or source path makes no new series.
    /// </summary>
    internal static string StepLabel(string step)
    {
        var words = step.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length switch
        {
            0 => "",
            1 => words[0],
            _ => words[1].All(char.IsAsciiLetterLower) ? $"{words[0]} {words[1]}" : words[0],
        };
    }

    private static string Name(BootstrapState state) => state.ToString().ToLowerInvariant();

    private static double Seconds(DateTimeOffset? at) => at is { } t ? t.ToUnixTimeMilliseconds() / 1000.0 : 0;
}
