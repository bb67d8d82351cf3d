using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Metrics;
using ZfsCsi.Driver.Metrics;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Metrics;

public sealed class CommandMetricsTests
{
    /// <summary>Records what the runner told it.</summary>
    private sealed class RecordingCommandMetrics : ICommandMetrics
    {
        public List<(CommandLine Command, CommandOutcome Outcome, TimeSpan Elapsed)> Observed { get; } = [];

        public void Observe(CommandLine command, CommandOutcome outcome, TimeSpan elapsed)
        {
            lock (Observed)
            {
                Observed.Add((command, outcome, elapsed));
            }
        }
    }

    [Fact]
    public async Task The_runner_tells_the_metrics_once_per_command_how_it_ended()
    {
        var metrics = new RecordingCommandMetrics();
        var runner = new CliWrapCommandRunner(new InMemorySink().CreateLogger(), metrics);

        await runner.RunAsync(new CommandLine("true"), TimeSpan.FromSeconds(10));
        await runner.RunAsync(new CommandLine("sh", "-c", "exit 3"), TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<CommandTimeoutException>(() =>
            runner.RunAsync(new CommandLine("sleep", "5"), TimeSpan.FromMilliseconds(200))
        );
        await Assert.ThrowsAsync<CommandFailedException>(() =>
            runner.RunAsync(new CommandLine("/nonexistent/zfs-csi-no-such-program"), TimeSpan.FromSeconds(10))
        );

        Assert.Equal(
            [
                CommandOutcome.Succeeded,
                CommandOutcome.ExitedNonZero,
                CommandOutcome.TimedOut,
                CommandOutcome.NotStarted,
            ],
            metrics.Observed.Select(o => o.Outcome)
        );
        Assert.InRange(metrics.Observed[2].Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task Failures_and_timeouts_are_counted_by_program_and_subcommand_and_each_run_is_in_the_histogram()
    {
        var registry = new MetricsRegistry();
        var metrics = new CommandMetrics(registry);
        var get = new CommandLine("zfs", "get", "-H", "name", "data/k8s/pvc-1");

        metrics.Observe(get, CommandOutcome.Succeeded, TimeSpan.FromMilliseconds(20));
        metrics.Observe(
            get with
            {
                Arguments = ["get", "-H", "name", "data/k8s/pvc-2"],
            },
            CommandOutcome.ExitedNonZero,
            TimeSpan.FromMilliseconds(30)
        );
        metrics.Observe(new CommandLine("zpool", "list", "-H"), CommandOutcome.TimedOut, TimeSpan.FromSeconds(30));
        metrics.Observe(new CommandLine("/usr/bin/sshfs", "host:/", "/data"), CommandOutcome.NotStarted, TimeSpan.Zero);

        var scrape = Exposition.Parse(await registry.ExportAsync());
        Assert.Equal("histogram", scrape.Types["zfs_csi_command_duration_seconds"]);
        Assert.Equal(
            2,
            scrape.Value("zfs_csi_command_duration_seconds_count", ("program", "zfs"), ("subcommand", "get"))
        );
        Assert.Equal(
            0.05,
            scrape.Value("zfs_csi_command_duration_seconds_sum", ("program", "zfs"), ("subcommand", "get")),
            6
        );
        Assert.Equal(1, scrape.Value("zfs_csi_command_failures_total", ("program", "zfs"), ("subcommand", "get")));
        Assert.Equal(1, scrape.Value("zfs_csi_command_timeouts_total", ("program", "zpool"), ("subcommand", "list")));
        Assert.Equal(1, scrape.Value("zfs_csi_command_failures_total", ("program", "sshfs"), ("subcommand", "")));
        // Never an argument: no label anywhere holds a dataset name.
        Assert.DoesNotContain(scrape.Samples, s =>
            s.Labels.Values.Any(v => v.Contains("pvc", StringComparison.Ordinal))
        );
    }
}
