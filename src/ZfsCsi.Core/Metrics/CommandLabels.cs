using ZfsCsi.Core.Exec;

namespace ZfsCsi.Core.Metrics;

/// <summary>
/// The labels a command is counted under: its program and, for zfs and zpool, the subcommand.
/// Never an argument: dataset names, paths and hosts would make one time series per volume per
/// command, which is what Prometheus labels must not carry.
/// </summary>
public static class CommandLabels
{
    /// <summary>Programs whose first argument is a subcommand from a fixed set (list, get, create, import, ...).</summary>
    private static readonly HashSet<string> WithSubcommands = new(StringComparer.Ordinal) { "zfs", "zpool" };

    /// <summary>The program's file name (a path from --zfs is configuration, so bounded) and its subcommand, "" when it has none.</summary>
    public static (string Program, string Subcommand) Of(CommandLine command)
    {
        var program = Path.GetFileName(command.Program);
        if (program.Length == 0)
        {
            program = command.Program;
        }
        var subcommand =
            WithSubcommands.Contains(program) && command.Arguments.Count > 0 && IsWord(command.Arguments[0])
                ? command.Arguments[0]
                : "";
        return (program, subcommand);
    }

    /// <summary>A subcommand is a short lower-case word; anything else (an option, a name) is not one and is never a label.</summary>
    private static bool IsWord(string arg) => arg.Length is > 0 and <= 16 && arg.All(char.IsAsciiLetterLower);
}
