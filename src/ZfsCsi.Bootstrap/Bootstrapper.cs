using Serilog;
using ZfsCsi.Bootstrap.Module;
using ZfsCsi.Bootstrap.Pool;
using ZfsCsi.Bootstrap.Progress;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap;

/// <summary>
/// One bootstrap: the module, then the pool, then the verdict in the status file. <see cref="RunOnceAsync"/>
/// for the systemd oneshot, <see cref="WatchAsync"/> for the sidecar (the same check every interval,
/// so readiness drops when the pool goes away or faults and comes back when it recovers).
/// </summary>
public sealed class Bootstrapper : IDisposable
{
    private readonly BootstrapOptions _options;
    private readonly ILogger _log;
    private readonly MountSerializer _mounts;
    private readonly ModuleBootstrapper _module;
    private readonly PoolBootstrapper _pool;

    public Bootstrapper(BootstrapOptions options, ICommandRunner runner, ILogger logger, ProgressLine? line = null)
    {
        _options = options;
        _log = logger.ForContext<Bootstrapper>();
        Progress = new BootstrapProgress(
            logger,
            options.StatusFile,
            options.Command == BootstrapCommand.Watch,
            options.HeartbeatInterval,
            line
        );
        _mounts = new MountSerializer(
            options.MountLockFile.Length > 0 ? options.MountLockFile : null,
            options.MountLockTimeout
        );
        _module = new ModuleBootstrapper(runner, options, Progress, logger);
        _pool = new PoolBootstrapper(runner, options, Progress, _mounts, logger);
    }

    public BootstrapProgress Progress { get; }

    /// <summary>One full check; never throws for a failed step (the status says failed, with the reason).</summary>
    public async Task<BootstrapStatus> CheckAsync(CancellationToken ct)
    {
        Progress.BeginCheck();
        try
        {
            var module = await _module.EnsureAsync(ct).ConfigureAwait(false);
            _log.Write(
                Progress.Verbose ? Serilog.Events.LogEventLevel.Information : Serilog.Events.LogEventLevel.Debug,
                "Module: {ModuleSummary}",
                module
            );
            if (_options.Pool.Length == 0)
            {
                return Progress.Finish(true, module);
            }
            var (ready, reason) = await _pool.EnsureAsync(ct).ConfigureAwait(false);
            return Progress.Finish(ready, reason, ready ? "" : "pool health");
        }
        catch (BootstrapException e)
        {
            return Progress.Finish(false, $"{e.Step}: {e.Message}", e.Step);
        }
    }

    /// <summary>The systemd oneshot: 0 when ready, 1 when not.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var status = await CheckAsync(ct).ConfigureAwait(false);
        Log(status, force: true);
        return status.State == BootstrapState.Ready ? 0 : 1;
    }

    /// <summary>The sidecar: check, sleep, check again until cancelled. Logs at Information only when the verdict changes.</summary>
    public async Task WatchAsync(CancellationToken ct)
    {
        BootstrapStatus? previous = null;
        while (!ct.IsCancellationRequested)
        {
            Progress.Verbose = previous is null || previous.State != BootstrapState.Ready;
            var status = await CheckAsync(ct).ConfigureAwait(false);
            Log(status, force: previous is null || previous.State != status.State || previous.Reason != status.Reason);
            previous = status;
            try
            {
                await Task.Delay(_options.Interval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private void Log(BootstrapStatus status, bool force)
    {
        var elapsedMs = Progress.CheckElapsed.TotalMilliseconds;
        if (status.State == BootstrapState.Ready)
        {
            _log.Write(
                force ? Serilog.Events.LogEventLevel.Information : Serilog.Events.LogEventLevel.Debug,
                "Bootstrap ready in {ElapsedMs:F0} ms: {Reason}",
                elapsedMs,
                status.Reason
            );
        }
        else if (force)
        {
            _log.Error("Bootstrap not ready after {ElapsedMs:F0} ms: {Reason}", elapsedMs, status.Reason);
        }
        else
        {
            _log.Debug("Bootstrap still not ready: {Reason}", status.Reason);
        }
    }

    public void Dispose()
    {
        Progress.Dispose();
        _mounts.Dispose();
    }
}
