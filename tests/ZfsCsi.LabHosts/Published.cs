using CliWrap;
using CliWrap.Buffered;

namespace ZfsCsi.LabHosts;

/// <summary>
/// The native AOT executables from lab/publish: what ships, and what every test runs that starts
/// the programs as processes (node plugins, the conformance suite's driver, the storage host VM's
/// programs). lab/publish keeps one publish per stamp of the sources, so a publish (1–6 minutes)
/// happens once per change of the code and every later call takes a second; lab/test calls it
/// before the suites, so they never compile.
/// </summary>
public static class Published
{
    private static readonly Lazy<Task<string>> Directory = new(PublishAsync);

    /// <summary>The driver executable (<c>zfs-csi-driver</c>).</summary>
    public static async Task<string> DriverAsync() => Path.Combine(await Directory.Value, "driver", "zfs-csi-driver");

    /// <summary>The bootstrap executable (<c>zfs-csi-bootstrap</c>).</summary>
    public static async Task<string> BootstrapAsync() =>
        Path.Combine(await Directory.Value, "bootstrap", "zfs-csi-bootstrap");

    private static async Task<string> PublishAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        var result = await Cli.Wrap(Path.Combine(RepoLayout.Root, "lab", "publish"))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(timeout.Token);
        return result.ExitCode == 0
            ? result.StandardOutput.Trim()
            : throw new InvalidOperationException(
                $"lab/publish exited {result.ExitCode}: {result.StandardError.Trim()}"
            );
    }
}
