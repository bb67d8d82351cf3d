namespace ZfsCsi.LabHosts;

/// <summary>Where the repository is (found from this test assembly's location) and how to start the driver.</summary>
public static class RepoLayout
{
    /// <summary>Environment variable naming another driver (an executable or a DLL) to run the suite against.</summary>
    public const string DriverOverride = "ZFS_CSI_CONFORMANCE_DRIVER";

    public static string Root { get; } = FindRoot();

    /// <summary>
    /// How to start the driver: the published executable (<see cref="Published"/>, what ships), or
    /// the program <see cref="DriverOverride"/> names (another build: an executable, or a DLL run by
    /// dotnet), checked as is.
    /// </summary>
    public static IReadOnlyList<string> DriverCommand()
    {
        if (Environment.GetEnvironmentVariable(DriverOverride) is { Length: > 0 } other)
        {
            return !File.Exists(other) ? throw new InvalidOperationException($"{DriverOverride}={other}: no such file")
                : other.EndsWith(".dll", StringComparison.Ordinal) ? ["dotnet", other]
                : [other];
        }
        // Once per run (lab/publish's answer is cached), outside any test's synchronisation context.
        return [Task.Run(Published.DriverAsync).GetAwaiter().GetResult()];
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ZfsCsi.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException(
            $"cannot find the repository root (ZfsCsi.sln) above {AppContext.BaseDirectory}"
        );
    }
}
