namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>The repository these tests were built from, found from the test assembly's location.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>A file of the repository by its path relative to the root (e.g. <c>lab/cluster-up</c>).</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>
    /// A program's dll as built next to this test assembly's configuration (the project references
    /// build it), e.g. <c>ProgramDll("ZfsCsi.Driver", "zfs-csi-driver")</c>.
    /// </summary>
    public static string ProgramDll(string project, string assembly)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
        var dll = PathOf($"src/{project}/bin/{configuration}/net10.0/{assembly}.dll");
        return File.Exists(dll)
            ? dll
            : throw new InvalidOperationException($"{dll} not found: dotnet build src/{project}");
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
