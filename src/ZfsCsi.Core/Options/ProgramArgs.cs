using System.Reflection;

namespace ZfsCsi.Core.Options;

/// <summary>How the zfs-csi programs start: help, version, or parsed options, or a bad command line explained.</summary>
public static class ProgramArgs
{
    /// <summary>
    /// The release every zfs-csi program is (Directory.Build.props), with the commit it was built
    /// from when the build knew it (<c>0.1.0+&lt;commit&gt;</c>): what an image tag and a bug report name.
    /// </summary>
    public static string Version { get; } =
        typeof(ProgramArgs).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";

    /// <summary>
    /// Parses <paramref name="args"/>. Null options mean the program ends with the exit code given:
    /// 0 after printing the usage for --help or "program version" for --version, 2 after printing
    /// why the command line is wrong.
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
        if (args is ["--version"])
        {
            Console.WriteLine($"{program} {Version}");
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
