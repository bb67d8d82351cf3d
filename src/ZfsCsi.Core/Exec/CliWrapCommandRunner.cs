using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using CliWrap;
using Serilog;
using ZfsCsi.Core.Metrics;

namespace ZfsCsi.Core.Exec;

/// <summary>
/// The one real <see cref="ICommandRunner"/>: CliWrap with argv, a timeout, and one log event and
/// one metrics observation per command (<paramref name="metrics"/>: null when metrics are off).
/// </summary>
public sealed class CliWrapCommandRunner(ILogger logger, ICommandMetrics? metrics = null) : ICommandRunner
{
    private readonly ILogger _log = logger.ForContext<CliWrapCommandRunner>();

    public Task<CommandResult> RunAsync(
        CommandLine command,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    ) => ExecuteAsync(command, timeout, onOutputLine: null, cancellationToken);

    /// <summary>
    /// <see cref="RunAsync"/> with each stdout and stderr line handed to <paramref name="onOutputLine"/>
    /// as it is printed (a module build's progress), and the whole output still in the result.
    /// </summary>
    public Task<CommandResult> RunStreamingAsync(
        CommandLine command,
        TimeSpan timeout,
        Action<string> onOutputLine,
        CancellationToken cancellationToken = default
    ) => ExecuteAsync(command, timeout, onOutputLine, cancellationToken);

    private async Task<CommandResult> ExecuteAsync(
        CommandLine command,
        TimeSpan timeout,
        Action<string>? onOutputLine,
        CancellationToken cancellationToken
    )
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        PipeTarget Pipe(StringBuilder buffer) =>
            onOutputLine is null
                ? PipeTarget.ToStringBuilder(buffer)
                : PipeTarget.Merge(PipeTarget.ToStringBuilder(buffer), PipeTarget.ToDelegate(onOutputLine));
        try
        {
            var result = await Cli.Wrap(command.Program)
                .WithArguments(command.Arguments)
                .WithValidation(CommandResultValidation.None)
                .WithWorkingDirectory(command.WorkingDirectory ?? Directory.GetCurrentDirectory())
                // A fixed, predictable locale keeps error text parseable.
                .WithEnvironmentVariables(env => env.Set("LC_ALL", "C"))
                .WithStandardOutputPipe(Pipe(stdout))
                .WithStandardErrorPipe(Pipe(stderr))
                .ExecuteAsync(timeoutSource.Token);
            var elapsed = Stopwatch.GetElapsedTime(started);
            // One event per command. A non-zero exit is not always a failure (a lookup of a dataset
            // that does not exist), so the level stays the same; stderr comes along when there is one.
            _log.Information(
                "Command {Argv} exited {ExitCode} in {DurationMs:F1} ms{StandardError}",
                command.ToString(),
                result.ExitCode,
                elapsed.TotalMilliseconds,
                result.ExitCode == 0 ? "" : ": " + stderr.ToString().Trim()
            );
            metrics?.Observe(
                command,
                result.ExitCode == 0 ? CommandOutcome.Succeeded : CommandOutcome.ExitedNonZero,
                elapsed
            );
            return new CommandResult(result.ExitCode, stdout.ToString(), stderr.ToString(), elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            _log.Warning(
                "Command {Argv} timed out after {DurationMs:F1} ms and was killed",
                command.ToString(),
                elapsed.TotalMilliseconds
            );
            metrics?.Observe(command, CommandOutcome.TimedOut, elapsed);
            throw new CommandTimeoutException(command, timeout);
        }
        catch (Win32Exception e)
        {
            _log.Error("Command {Argv} could not start: {Reason}", command.ToString(), e.Message);
            metrics?.Observe(command, CommandOutcome.NotStarted, Stopwatch.GetElapsedTime(started));
            throw new CommandFailedException(command, -1, $"cannot start {command.Program}: {e.Message}");
        }
    }
}
