namespace ZfsCsi.LabHosts;

/// <summary>Where the repository and the built driver are, found from this test assembly's location.</summary>
public static class RepoLayout
{
    /// <summary>Environment variable naming another driver dll to run the suite against.</summary>
    public const string DriverOverride = "ZFS_CSI_CONFORMANCE_DRIVER";

    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration this suite was built with (bin/&lt;config&gt;/net10.0).</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent?.Name ?? "Debug";

    /// <summary>
    /// The driver built by <c>dotnet build</c>, of the same configuration as this suite (or the
    /// other one if only that exists). The suite never builds it: a missing build fails with a
    /// message saying what to run.
    /// </summary>
    public static string DriverDll()
    {
        // Another build of the driver (another worktree, a release) can be checked the same way.
        if (Environment.GetEnvironmentVariable(DriverOverride) is { Length: > 0 } other)
        {
            return File.Exists(other)
                ? other
                : throw new InvalidOperationException($"{DriverOverride}={other}: no such file");
        }
        var configurations = new[] { Configuration, "Debug", "Release" }.Distinct();
        foreach (var config in configurations)
        {
            var dll = Path.Combine(Root, "src", "ZfsCsi.Driver", "bin", config, "net10.0", "zfs-csi-driver.dll");
            if (File.Exists(dll))
            {
                return dll;
            }
        }
        throw new InvalidOperationException(
            $"the driver is not built: no src/ZfsCsi.Driver/bin/{Configuration}/net10.0/zfs-csi-driver.dll under {Root}; run 'dotnet build' in the repository first"
        );
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
