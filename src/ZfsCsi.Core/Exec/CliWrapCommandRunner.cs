using System.ComponentModel;
using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;
using Serilog;

namespace ZfsCsi.Core.Exec;

/// <summary>The one real <see cref="ICommandRunner"/>: CliWrap with argv, a timeout and one log event per command.</summary>
public sealed class CliWrapCommandRunner(ILogger logger) : ICommandRunner
{
    private readonly ILogger _log = logger.ForContext<CliWrapCommandRunner>();

    public async Task<CommandResult> RunAsync(CommandLine command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await Cli.Wrap(command.Program)
                .WithArguments(command.Arguments)
                .WithValidation(CommandResultValidation.None)
                .WithWorkingDirectory(command.WorkingDirectory ?? Directory.GetCurrentDirectory())
                // A fixed, predictable locale keeps error text parseable.
                .WithEnvironmentVariables(env => env.Set("LC_ALL", "C"))
                .ExecuteBufferedAsync(timeoutSource.Token);
            var elapsed = Stopwatch.GetElapsedTime(started);
            // One event per command. A non-zero exit is not always a failure (a lookup of a dataset
            // that does not exist), so the level stays the same; stderr comes along when there is one.
            _log.Information("Command {Argv} exited {ExitCode} in {DurationMs:F1} ms{StandardError}",
                command.ToString(), result.ExitCode, elapsed.TotalMilliseconds,
                result.ExitCode == 0 ? "" : ": " + result.StandardError.Trim());
            return new CommandResult(result.ExitCode, result.StandardOutput, result.StandardError, elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            _log.Warning("Command {Argv} timed out after {DurationMs:F1} ms and was killed", command.ToString(), elapsed.TotalMilliseconds);
            throw new CommandTimeoutException(command, timeout);
        }
        catch (Win32Exception e)
        {
            _log.Error("Command {Argv} could not start: {Reason}", command.ToString(), e.Message);
            throw new CommandFailedException(command, -1, $"cannot start {command.Program}: {e.Message}");
        }
    }

    /// <summary>
    /// <see cref="RunAsync"/> with each stdout and stderr line handed to <paramref name="onOutputLine"/>
    /// as it is printed (a module build's progress), and the whole output still in the result.
    /// </summary>
    public async Task<CommandResult> RunStreamingAsync(CommandLine command, TimeSpan timeout, Action<string> onOutputLine, CancellationToken cancellationToken = default)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        try
        {
            var result = await Cli.Wrap(command.Program)
                .WithArguments(command.Arguments)
                .WithValidation(CommandResultValidation.None)
                .WithWorkingDirectory(command.WorkingDirectory ?? Directory.GetCurrentDirectory())
                .WithEnvironmentVariables(env => env.Set("LC_ALL", "C"))
                .WithStandardOutputPipe(PipeTarget.Merge(PipeTarget.ToStringBuilder(stdout), PipeTarget.ToDelegate(onOutputLine)))
                .WithStandardErrorPipe(PipeTarget.Merge(PipeTarget.ToStringBuilder(stderr), PipeTarget.ToDelegate(onOutputLine)))
                .ExecuteAsync(timeoutSource.Token);
            var elapsed = Stopwatch.GetElapsedTime(started);
            _log.Information("Command {Argv} exited {ExitCode} in {DurationMs:F1} ms{StandardError}",
                command.ToString(), result.ExitCode, elapsed.TotalMilliseconds,
                result.ExitCode == 0 ? "" : ": " + stderr.ToString().Trim());
            return new CommandResult(result.ExitCode, stdout.ToString(), stderr.ToString(), elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            _log.Warning("Command {Argv} timed out after {DurationMs:F1} ms and was killed", command.ToString(), elapsed.TotalMilliseconds);
            throw new CommandTimeoutException(command, timeout);
        }
        catch (Win32Exception e)
        {
            _log.Error("Command {Argv} could not start: {Reason}", command.ToString(), e.Message);
            throw new CommandFailedException(command, -1, $"cannot start {command.Program}: {e.Message}");
        }
    }
}
