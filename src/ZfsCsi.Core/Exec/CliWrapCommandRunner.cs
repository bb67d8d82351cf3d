using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using CliWrap;
using CliWrap.Buffered;
using Serilog;

namespace ZfsCsi.Core.Exec;

/// <summary>The one real <see cref="ICommandRunner"/>: CliWrap with argv, a timeout and one log event per command.</summary>
public sealed class CliWrapCommandRunner(ILogger logger) : ICommandRunner
{
    private readonly ILogger _log = logger.ForContext<CliWrapCommandRunner>();

    public Task<CommandResult> RunAsync(CommandLine command, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RunCoreAsync(command, timeout, async (cli, ct) =>
        {
            var result = await cli.ExecuteBufferedAsync(ct).ConfigureAwait(false);
            return (result.ExitCode, result.StandardOutput, result.StandardError);
        }, cancellationToken);

    public Task<CommandResult> RunStreamingAsync(CommandLine command, TimeSpan timeout, Action<string> onOutputLine, CancellationToken cancellationToken = default) =>
        RunCoreAsync(command, timeout, async (cli, ct) =>
        {
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            var result = await cli
                .WithStandardOutputPipe(PipeTarget.Merge(PipeTarget.ToStringBuilder(stdout), PipeTarget.ToDelegate(onOutputLine)))
                .WithStandardErrorPipe(PipeTarget.Merge(PipeTarget.ToStringBuilder(stderr), PipeTarget.ToDelegate(onOutputLine)))
                .ExecuteAsync(ct).ConfigureAwait(false);
            return (result.ExitCode, stdout.ToString(), stderr.ToString());
        }, cancellationToken);

    private async Task<CommandResult> RunCoreAsync(
        CommandLine command, TimeSpan timeout,
        Func<Command, CancellationToken, Task<(int ExitCode, string StandardOutput, string StandardError)>> execute,
        CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var cli = Cli.Wrap(command.Program)
                .WithArguments(command.Arguments)
                .WithValidation(CommandResultValidation.None)
                // A fixed, predictable locale keeps error text parseable.
                .WithEnvironmentVariables(env => env.Set("LC_ALL", "C"));
            if (command.WorkingDirectory is not null)
            {
                cli = cli.WithWorkingDirectory(command.WorkingDirectory);
            }
            var (exitCode, stdout, stderr) = await execute(cli, timeoutSource.Token).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            _log.Debug("Command {Argv} exited {ExitCode} in {DurationMs:F1} ms", command.ToString(), exitCode, elapsed.TotalMilliseconds);
            if (exitCode != 0)
            {
                _log.Debug("Command {Argv} stderr: {StandardError}", command.ToString(), stderr.Trim());
            }
            return new CommandResult(exitCode, stdout, stderr, elapsed);
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
