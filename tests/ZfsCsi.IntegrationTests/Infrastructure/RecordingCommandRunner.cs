using System.Collections.Concurrent;
using ZfsCsi.Core.Exec;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>The real runner, recording every command it runs, so tests can count zfs processes.</summary>
public sealed class RecordingCommandRunner(ICommandRunner inner) : ICommandRunner
{
    public ConcurrentQueue<CommandLine> Commands { get; } = new();

    public Task<CommandResult> RunAsync(CommandLine command, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Commands.Enqueue(command);
        return inner.RunAsync(command, timeout, cancellationToken);
    }

    /// <summary>Counts the commands run while <paramref name="action"/> ran.</summary>
    public async Task<IReadOnlyList<CommandLine>> DuringAsync(Func<Task> action)
    {
        var before = Commands.Count;
        await action();
        return Commands.Skip(before).ToList();
    }
}
