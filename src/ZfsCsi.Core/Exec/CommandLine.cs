namespace ZfsCsi.Core.Exec;

/// <summary>
/// One external command as an argv list: a program and its arguments, never a shell string.
/// </summary>
public sealed record CommandLine(string Program, IReadOnlyList<string> Arguments)
{
    public CommandLine(string program, params string[] arguments)
        : this(program, (IReadOnlyList<string>)arguments) { }

    /// <summary>The directory the command runs in; null for the caller's own (e.g. a source tree for make and ./configure).</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Value equality over the argv itself: a record would compare the list by reference.</summary>
    public bool Equals(CommandLine? other) =>
        other is not null
        && Program == other.Program
        && Arguments.SequenceEqual(other.Arguments)
        && WorkingDirectory == other.WorkingDirectory;

    public override int GetHashCode() =>
        Arguments.Aggregate(Program.GetHashCode(StringComparison.Ordinal), (h, a) =>
            HashCode.Combine(h, a.GetHashCode(StringComparison.Ordinal))
        );

    /// <summary>The argv as one readable line, for logs and error messages only; never executed.</summary>
    public override string ToString() => string.Join(' ', new[] { Program }.Concat(Arguments).Select(Quote));

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,%+".Contains(c))
            ? arg
            : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
