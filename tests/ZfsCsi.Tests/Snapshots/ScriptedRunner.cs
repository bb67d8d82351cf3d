using System.Collections.Concurrent;
using ZfsCsi.Core.Exec;

namespace ZfsCsi.Tests.Snapshots;

/// <summary>A fake command runner: records every argv and answers from a script (argv → result).</summary>
public sealed class ScriptedRunner(Func<IReadOnlyList<string>, CommandResult> script) : ICommandRunner
{
    public ConcurrentQueue<IReadOnlyList<string>> Commands { get; } = new();

    public Task<CommandResult> RunAsync(
        CommandLine command,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        Commands.Enqueue(command.Arguments);
        return Task.FromResult(script(command.Arguments));
    }

    public static CommandResult Ok(string stdout = "") => new(0, stdout, "", TimeSpan.Zero);

    public static CommandResult Fail(int code, string stderr) => new(code, "", stderr, TimeSpan.Zero);
}
