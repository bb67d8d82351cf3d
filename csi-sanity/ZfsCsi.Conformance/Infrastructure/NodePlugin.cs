using Csi.V1;
using Grpc.Net.Client;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// The driver's node plugin as its own process (<c>--mode node</c>), with the pool's mountpoint as
/// its data root and a kubelet directory of its own: target paths are made under it, as kubelet
/// makes them under /var/lib/kubelet/pods.
/// </summary>
public sealed class NodePlugin : IAsyncDisposable
{
    private NodePlugin(DriverProcess driver, string kubeletDir)
    {
        Driver = driver;
        KubeletDirectory = kubeletDir;
        Channel = UnixSocketChannel.Create(driver.SocketPath);
    }

    public DriverProcess Driver { get; }

    public string KubeletDirectory { get; }

    public GrpcChannel Channel { get; }

    public Node.NodeClient Node => new(Channel);

    public Identity.IdentityClient Identity => new(Channel);

    public Controller.ControllerClient Controller => new(Channel);

    /// <summary>
    /// A fresh target path for one publish: its parent exists (the CO's part), the target itself
    /// does not (the plugin makes it, and removes it on unpublish).
    /// </summary>
    public string NewTargetPath()
    {
        var pod = Path.Combine(KubeletDirectory, "pods", Guid.NewGuid().ToString("N")[..12], "volumes");
        Directory.CreateDirectory(pod);
        return Path.Combine(pod, "mount");
    }

    public static async Task<NodePlugin?> StartIfSupportedAsync(ConformancePool pool)
    {
        if (!await SupportsNodeFlagsAsync())
        {
            return null;
        }
        var kubelet = Path.Combine(pool.RunDirectory, "kubelet");
        Directory.CreateDirectory(kubelet);
        var driver = await DriverProcess.StartAsync(pool.RunDirectory, "node",
        [
            "--mode", "node", "--nodeid", ConformanceFixture.NodeId, "--parent-dataset", pool.Parent,
            "--data-root", pool.Mountpoint, "--kubelet-dir", kubelet,
        ]);
        return new NodePlugin(driver, kubelet);
    }

    /// <summary>Whether this driver build has the node plugin: its usage (printed for an unknown flag) names --data-root.</summary>
    private static async Task<bool> SupportsNodeFlagsAsync()
    {
        var usage = await Shell.RunAsync("dotnet", [RepoLayout.DriverDll(), "--conformance-probe-unknown-flag"], TimeSpan.FromSeconds(60));
        return (usage.StandardOutput + usage.StandardError).Contains("--data-root", StringComparison.Ordinal);
    }

    /// <summary>Unmounts whatever a failed test left published under the kubelet directory, then stops the plugin.</summary>
    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        try
        {
            await Driver.DisposeAsync();
        }
        finally
        {
            foreach (var mount in MountsUnder(KubeletDirectory).Reverse())
            {
                await Shell.RunAsync("umount", ["-l", mount]);
            }
        }
    }

    /// <summary>Mount points at or below <paramref name="dir"/>, from /proc/self/mountinfo (field 5), in mount order.</summary>
    public static IEnumerable<string> MountsUnder(string dir) =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Select(l => l.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(m => m == dir || m.StartsWith(dir + "/", StringComparison.Ordinal))
            .ToList();
}
