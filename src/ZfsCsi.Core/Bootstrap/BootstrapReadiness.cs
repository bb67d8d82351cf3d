using ZfsCsi.Core.Health;

namespace ZfsCsi.Core.Bootstrap;

/// <summary>
/// The driver's view of the bootstrap: ready only when the status file says ready (and, from a
/// watch sidecar, is fresh). Alive unless the bootstrap is in the middle of a step and has stopped
/// refreshing its heartbeat: a rebuild takes minutes and must never be cut short by a liveness
/// probe, but a bootstrap that died mid-step should be restarted.
/// </summary>
public sealed class BootstrapReadiness(string statusFile, TimeSpan staleAfter, TimeProvider? clock = null)
    : IReadinessCheck
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string StatusFile => statusFile;

    public async Task<Readiness> CheckAsync(CancellationToken ct)
    {
        var (status, unreadable) = await ReadAsync(ct).ConfigureAwait(false);
        if (unreadable is not null)
        {
            return new Readiness(false, $"bootstrap status unreadable: {unreadable}");
        }
        if (status is null)
        {
            return new Readiness(
                false,
                $"bootstrap has not reported yet ({statusFile} does not exist): is zfs-csi-bootstrap running?"
            );
        }
        var age = _clock.GetUtcNow() - status.Heartbeat;
        if (status.Watching && age > staleAfter)
        {
            return new Readiness(
                false,
                $"bootstrap status is stale (last heartbeat {age.TotalSeconds:F0} s ago, state {Name(status.State)}): is the bootstrap sidecar still running?"
            );
        }
        return status.State == BootstrapState.Ready
            ? new Readiness(true, $"bootstrap ready: {status.Reason}")
            : new Readiness(
                false,
                $"bootstrap {Name(status.State)}{(status.Step.Length > 0 ? $" at step '{status.Step}'" : "")}: {status.Reason}"
            );
    }

    /// <summary>
    /// Liveness: false only when the bootstrap is stuck. Either it is mid-step (checking, rebuilding,
    /// importing) and its heartbeat is older than the stale limit (it died or hangs as a whole), or a
    /// step has run longer than its own limit plus the same margin: the heartbeat timer ticks on
    /// while a command hangs in uninterruptible sleep (a zpool import in D state outlives its kill),
    /// so a fresh heartbeat alone never proves progress.
    /// </summary>
    public async Task<Readiness> CheckLivenessAsync(CancellationToken ct)
    {
        var (status, unreadable) = await ReadAsync(ct).ConfigureAwait(false);
        if (unreadable is not null)
        {
            // A torn or foreign file is a readiness problem; restarting the driver would not fix it.
            return new Readiness(true, $"alive; bootstrap status unreadable: {unreadable}");
        }
        if (status is null)
        {
            // Restarting the driver cannot make a missing bootstrap appear; readiness says what is wrong.
            return new Readiness(true, "alive; waiting for the bootstrap's first report");
        }
        var now = _clock.GetUtcNow();
        var age = now - status.Heartbeat;
        if (status.IsInProgress && age > staleAfter)
        {
            return new Readiness(
                false,
                $"bootstrap stuck: state {Name(status.State)} at step '{status.Step}', last heartbeat {age.TotalSeconds:F0} s ago"
            );
        }
        if (
            status.StepStarted is { } started
            && status.StepLimitSeconds is { } limit
            && now - started > TimeSpan.FromSeconds(limit) + staleAfter
        )
        {
            var step = status.RunningStep.Length > 0 ? status.RunningStep : status.Step;
            return new Readiness(
                false,
                $"bootstrap stuck: step '{step}' has run {(now - started).TotalSeconds:F0} s, past its limit of {limit:F0} s plus {staleAfter.TotalSeconds:F0} s "
                    + "(a command that outlives its kill is in uninterruptible sleep: see the host's dmesg and ps for processes in state D)"
            );
        }
        return new Readiness(
            true,
            $"alive; bootstrap {Name(status.State)}{(status.Step.Length > 0 ? $" ({status.Step}, {status.ElapsedSeconds:F0} s)" : "")}"
        );
    }

    /// <summary>The status (null: no file yet), or why the file cannot be read.</summary>
    private async Task<(BootstrapStatus? Status, string? Unreadable)> ReadAsync(CancellationToken ct)
    {
        try
        {
            return (await BootstrapStatusFile.ReadAsync(statusFile, ct).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return (null, e.Message);
        }
    }

    private static string Name(BootstrapState state) => state.ToString().ToLowerInvariant();
}
