using System.Collections.Concurrent;
using ZfsCsi.Core.Exec;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>The real runner, recording every command it runs, so tests can count zfs processes.</summary>
public sealed class RecordingCommandRunner(ICommandRunner inner) : ICommandRunner
{
    public ConcurrentQueue<CommandLine> Commands { get; } = new();

    public Task<CommandResult> RunAsync(
        CommandLine command,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        Commands.Enqueue(command);
        return inner.RunAsync(command, timeout, cancellationToken);
    }

    /// <summary>
    /// Returns once no command has started for <paramref name="quiet"/> (at most 30 s): the
    /// controller's background sweep, asked for by an earlier delete, runs seconds later and its
    /// commands must not be counted as the next RPC's.
    /// </summary>
    public async Task QuietAsync(TimeSpan? quiet = null)
    {
        var wait = quiet ?? TimeSpan.FromSeconds(3);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var seen = Commands.Count;
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow - since < wait && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            if (Commands.Count != seen)
            {
                (seen, since) = (Commands.Count, DateTime.UtcNow);
            }
        }
    }

    /// <summary>Counts the commands run while <paramref name="action"/> ran.</summary>
    public async Task<IReadOnlyList<CommandLine>> DuringAsync(Func<Task> action)
    {
        var before = Commands.Count;
        await action();
        return Commands.Skip(before).ToList();
    }
}
