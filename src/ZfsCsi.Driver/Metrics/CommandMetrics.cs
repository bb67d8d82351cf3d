using Prometheus;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Metrics;

namespace ZfsCsi.Driver.Metrics;

/// <summary>
/// External commands (zfs, zpool, sshfs) by program and subcommand (<see cref="CommandLabels"/>):
/// a duration histogram (its _count is the count), non-zero exits and failed starts, and timeouts.
/// Fed by the one command runner, so no command escapes it.
/// </summary>
public sealed class CommandMetrics(MetricsRegistry metrics) : ICommandMetrics
{
    private static readonly string[] Labels = ["program", "subcommand"];

    /// <summary>zfs get answers in milliseconds; a mount-causing command can wait minutes for the mount lock; a timeout is the 30 s default.</summary>
    internal static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly Histogram _duration = metrics.Factory.CreateHistogram(
        "zfs_csi_command_duration_seconds",
        "Duration of external commands the driver ran (zfs, zpool, sshfs), by program and subcommand; timed-out ones included.",
        Labels,
        new HistogramConfiguration { Buckets = Buckets }
    );

    private readonly Counter _failures = metrics.Factory.CreateCounter(
        "zfs_csi_command_failures_total",
        "External commands that exited non-zero or could not be started (a non-zero exit is not always an error: a lookup of a missing dataset exits 1).",
        Labels
    );

    private readonly Counter _timeouts = metrics.Factory.CreateCounter(
        "zfs_csi_command_timeouts_total",
        "External commands killed after running past their timeout (a hung pool or ZFS daemon).",
        Labels
    );

    public void Observe(CommandLine command, CommandOutcome outcome, TimeSpan elapsed)
    {
        var (program, subcommand) = CommandLabels.Of(command);
        // A command that never started has no duration worth a bucket.
        if (outcome != CommandOutcome.NotStarted)
        {
            _duration.WithLabels(program, subcommand).Observe(elapsed.TotalSeconds);
        }
        switch (outcome)
        {
            case CommandOutcome.ExitedNonZero or CommandOutcome.NotStarted:
                _failures.WithLabels(program, subcommand).Inc();
                break;
            case CommandOutcome.TimedOut:
                _timeouts.WithLabels(program, subcommand).Inc();
                break;
        }
    }
}
