namespace ZfsCsi.Core.Options;

/// <summary>How the zfs-csi programs start: help, or parsed options, or a bad command line explained.</summary>
public static class ProgramArgs
{
    /// <summary>
    /// Parses <paramref name="args"/>. Null options mean the program ends with the exit code given:
    /// 0 after printing the usage for --help, 2 after printing why the command line is wrong.
    /// </summary>
    public static async Task<(T? Options, int ExitCode)> ParseAsync<T>(
        string program,
        string[] args,
        string usage,
        Func<IReadOnlyList<string>, T> parse
    )
        where T : class
    {
        if (args is ["--help"] or ["-h"] or ["help"])
        {
            Console.WriteLine(usage);
            return (null, 0);
        }
        try
        {
            return (parse(args), 0);
        }
        catch (OptionsException e)
        {
            await Console.Error.WriteLineAsync($"{program}: {e.Message}\n\n{usage}");
            return (null, 2);
        }
    }
}
