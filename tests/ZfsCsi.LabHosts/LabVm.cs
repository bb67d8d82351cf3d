using CliWrap.Buffered;

namespace ZfsCsi.LabHosts;

/// <summary>
/// One storage host VM of the lab (<c>lab/vm/*</c> on a state directory): boot it with a kernel,
/// power it off cleanly or pull the plug, run commands in it, talk to its qemu monitor. The
/// scripts do the work; this only calls them with argv and says what failed.
/// </summary>
public sealed class LabVm(string state)
{
    public string State { get; } = state;

    /// <summary>The qemu process is running for this state directory.</summary>
    public bool IsRunning =>
        File.Exists(Path.Combine(State, "qemu.pid"))
        && Directory.Exists($"/proc/{File.ReadAllText(Path.Combine(State, "qemu.pid")).Trim()}");

    /// <summary>The network namespace the VM's ssh port is in.</summary>
    public string NetworkNamespace => File.ReadAllText(Path.Combine(State, "netns")).Trim();

    /// <summary>known_hosts pinning the VM's host key as 127.0.0.1 (inside <see cref="NetworkNamespace"/>).</summary>
    public string KnownHostsFile => Path.Combine(State, "known_hosts");

    private static string Script(string name) => Path.Combine(RepoLayout.Root, "lab", "vm", name);

    /// <summary>Boots the VM (building the image first if the cache has none) and waits for sshd.</summary>
    public Task UpAsync(string kernel = "6.1", bool importAtBoot = false) =>
        CheckScriptAsync(
            "up",
            ["--state", State, "--kernel", kernel, .. importAtBoot ? new[] { "--import" } : []],
            TimeSpan.FromMinutes(40)
        );

    /// <summary>An orderly shutdown (pool exported unless <paramref name="keepPoolImported"/>), or a power cut.</summary>
    public Task DownAsync(bool hard = false, bool keepPoolImported = false, bool wipe = false) =>
        CheckScriptAsync(
            "down",
            [
                "--state",
                State,
                .. hard ? new[] { "--hard" } : [],
                .. keepPoolImported ? new[] { "--keep-pool-imported" } : [],
                .. wipe ? new[] { "--wipe" } : [],
            ],
            TimeSpan.FromMinutes(2)
        );

    /// <summary>Publishes this checkout's driver and bootstrap into the VM's share (no-op when current).</summary>
    public Task InstallAsync() => CheckScriptAsync("install", ["--state", State], TimeSpan.FromMinutes(10));

    /// <summary>Runs a program in the VM as root (every argument quoted for the remote shell).</summary>
    public Task<BufferedCommandResult> RunAsync(
        string program,
        IEnumerable<string> args,
        TimeSpan? timeout = null,
        string? input = null
    ) => StorageHost.RunHereAsync(Script("ssh"), ["--state", State, "--", program, .. args], timeout, input);

    /// <summary>One qemu monitor command (e.g. <c>device_del vd2</c>); its answer.</summary>
    public async Task<string> MonitorAsync(string command)
    {
        var result = await StorageHost.RunHereAsync(
            Script("monitor"),
            ["--state", State, .. command.Split(' ')],
            TimeSpan.FromSeconds(30),
            null
        );
        // qemu answers a refused command with "Error: …" and still exits the monitor normally.
        return result.ExitCode == 0 && !result.StandardOutput.Contains("Error", StringComparison.Ordinal)
            ? result.StandardOutput
            : throw new InvalidOperationException(
                $"qemu monitor '{command}': {result.StandardOutput.Trim()} {result.StandardError.Trim()}"
            );
    }

    private static async Task CheckScriptAsync(string script, string[] args, TimeSpan timeout)
    {
        var result = await StorageHost.RunHereAsync(Script(script), args, timeout, null);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"lab/vm/{script} {string.Join(' ', args)} exited {result.ExitCode}:\n{result.StandardError.Trim()}\n{result.StandardOutput.Trim()}"
            );
        }
    }
}
