using ZfsCsi.Core.Exec;

namespace ZfsCsi.Tests.Fakes;

/// <summary>
/// An <see cref="ICommandRunner"/> that runs nothing: it records every command (program, argv,
/// timeout) and answers from a script. A script entry matches on the program and a prefix of the
/// argv; the longest matching prefix wins, ties go to the entry scripted first. Each entry answers
/// its responses in order and repeats the last one. A command nothing matches fails the test loudly
/// (<see cref="UnscriptedCommandException"/>), so no test passes by accident on a command it never
/// thought about.
/// </summary>
public sealed class FakeCommandRunner : ICommandRunner
{
    private readonly object _sync = new();
    private readonly List<ScriptedCommand> _script = [];
    private readonly List<RecordedCommand> _calls = [];

    /// <summary>Every command run so far, in order, with the timeout it was given.</summary>
    public IReadOnlyList<RecordedCommand> Calls
    {
        get
        {
            lock (_sync)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Every command line run so far, in order.</summary>
    public IReadOnlyList<CommandLine> Commands => [.. Calls.Select(c => c.Command)];

    /// <summary>The argv (without the program) of every command run so far, in order.</summary>
    public IReadOnlyList<string[]> Argv => [.. Calls.Select(c => c.Command.Arguments.ToArray())];

    /// <summary>Scripts the answer to <paramref name="program"/> with an argv starting with <paramref name="argvPrefix"/>.</summary>
    public ScriptedCommand On(string program, params string[] argvPrefix)
    {
        var entry = new ScriptedCommand(program, argvPrefix);
        lock (_sync)
        {
            _script.Add(entry);
        }
        return entry;
    }

    /// <summary>Scripts a zfs command (program "zfs").</summary>
    public ScriptedCommand OnZfs(params string[] argvPrefix) => On("zfs", argvPrefix);

    /// <summary>Scripts a zpool command (program "zpool").</summary>
    public ScriptedCommand OnZpool(params string[] argvPrefix) => On("zpool", argvPrefix);

    public Task<CommandResult> RunAsync(
        CommandLine command,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        cancellationToken.ThrowIfCancellationRequested();
        ScriptedCommand? match;
        lock (_sync)
        {
            _calls.Add(new RecordedCommand(command, timeout));
            match = _script.Where(s => s.Matches(command)).OrderByDescending(s => s.Prefix.Count).FirstOrDefault();
        }
        if (match is null)
        {
            throw new UnscriptedCommandException(command, ScriptText());
        }
        return match.NextResponse()(command, timeout);
    }

    private string ScriptText()
    {
        lock (_sync)
        {
            return string.Join("\n", _script.Select(s => "  " + s));
        }
    }
}

/// <summary>One command the fake was asked to run.</summary>
public sealed record RecordedCommand(CommandLine Command, TimeSpan Timeout);

/// <summary>The fake was asked to run a command its script does not cover: a test bug or a code bug.</summary>
public sealed class UnscriptedCommandException(CommandLine command, string script)
    : Exception(
        $"FakeCommandRunner: unscripted command: {command}\nscripted:\n{(script.Length == 0 ? "  (nothing)" : script)}"
    )
{
    public CommandLine Command { get; } = command;
}

/// <summary>The answers to one program + argv prefix.</summary>
public sealed class ScriptedCommand(string program, IReadOnlyList<string> prefix)
{
    private readonly Queue<Func<CommandLine, TimeSpan, Task<CommandResult>>> _responses = new();
    private Func<CommandLine, TimeSpan, Task<CommandResult>>? _last;

    public string Program { get; } = program;

    public IReadOnlyList<string> Prefix { get; } = prefix;

    /// <summary>How many commands this entry answered.</summary>
    public int Count { get; private set; }

    /// <summary>Exit code 0 with this standard output.</summary>
    public ScriptedCommand Returns(string standardOutput = "") =>
        Add((_, _) => Task.FromResult(new CommandResult(0, standardOutput, "", TimeSpan.FromMilliseconds(1))));

    /// <summary>A non-zero exit with this standard error (zfs prints its errors there).</summary>
    public ScriptedCommand Fails(string standardError, int exitCode = 1) =>
        Add((_, _) => Task.FromResult(new CommandResult(exitCode, "", standardError, TimeSpan.FromMilliseconds(1))));

    /// <summary>The runner's timeout: what CliWrapCommandRunner throws when it kills a hung command.</summary>
    public ScriptedCommand TimesOut() =>
        Add((command, timeout) => Task.FromException<CommandResult>(new CommandTimeoutException(command, timeout)));

    /// <summary>Any other behaviour (a delay, a side effect, an exception).</summary>
    public ScriptedCommand Does(Func<CommandLine, TimeSpan, Task<CommandResult>> response) => Add(response);

    internal bool Matches(CommandLine command) =>
        command.Program == Program
        && command.Arguments.Count >= Prefix.Count
        && Prefix.Select((p, i) => command.Arguments[i] == p).All(equal => equal);

    internal Func<CommandLine, TimeSpan, Task<CommandResult>> NextResponse()
    {
        lock (_responses)
        {
            Count++;
            if (_responses.TryDequeue(out var next))
            {
                _last = next;
                return next;
            }
            return _last
                ?? throw new InvalidOperationException($"FakeCommandRunner: '{this}' is scripted without a response");
        }
    }

    private ScriptedCommand Add(Func<CommandLine, TimeSpan, Task<CommandResult>> response)
    {
        lock (_responses)
        {
            _responses.Enqueue(response);
        }
        return this;
    }

    public override string ToString() => new CommandLine(Program, [.. Prefix]) + " ...";
}
