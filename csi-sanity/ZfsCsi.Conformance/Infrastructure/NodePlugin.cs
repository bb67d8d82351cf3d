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
    private readonly Func<Task>? _revokeKey;
    private readonly Func<Task<DriverProcess>> _start;

    private NodePlugin(
        DriverProcess driver,
        string kubeletDir,
        Func<Task<DriverProcess>> start,
        Func<Task>? revokeKey = null
    )
    {
        Driver = driver;
        KubeletDirectory = kubeletDir;
        Channel = UnixSocketChannel.Create(driver.SocketPath);
        _start = start;
        _revokeKey = revokeKey;
    }

    public DriverProcess Driver { get; private set; }

    public string KubeletDirectory { get; }

    public GrpcChannel Channel { get; private set; }

    /// <summary>
    /// Kills the plugin (SIGKILL, as a crash or an OOM kill would: nothing is saved on the way out)
    /// and starts it again with the same flags and socket, leaving every mount as it was. What the
    /// plugin knows afterwards it can only have read from the node itself.
    /// </summary>
    public async Task RestartAsync()
    {
        Channel.Dispose();
        await Driver.DisposeAsync();
        Driver = await _start();
        Channel = UnixSocketChannel.Create(Driver.SocketPath);
    }

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
        string[] flags =
        [
            "--mode",
            "node",
            "--nodeid",
            ConformanceFixture.NodeId,
            "--parent-dataset",
            pool.Parent,
            "--kubelet-dir",
            kubelet,
        ];
        if (StorageHost.Current is not VmStorageHost vm)
        {
            // zfs-fuse: this machine is the storage host, the plugin sees the pool at its mountpoint.
            Func<Task<DriverProcess>> startHere = () =>
                DriverProcess.StartHereAsync(pool.RunDirectory, "node", [.. flags, "--data-root", pool.Mountpoint]);
            return new NodePlugin(await startHere(), kubelet, startHere);
        }
        // OpenZFS: this machine is a node away from the storage host; the plugin mounts the VM's
        // pool root over SSHFS itself (the nodes' chrooted SFTP login), from the VM's namespace.
        var dataRoot = Path.Combine(pool.RunDirectory, "data");
        Directory.CreateDirectory(dataRoot);
        var key = Path.Combine(pool.RunDirectory, "node_key");
        await Shell.CheckAsync(
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            $"zfs-csi-conformance-{pool.Tag}",
            "-f",
            key
        );
        var publicKey = (await File.ReadAllTextAsync(key + ".pub")).Trim();
        await vm.RunAsync("sh", ["-c", "echo \"$1\" >> /etc/ssh/zfs-csi-nodes.keys", "sh", publicKey]);
        Func<Task<DriverProcess>> start = () =>
            DriverProcess.StartHereAsync(
                pool.RunDirectory,
                "node",
                [
                    .. flags,
                    "--data-root",
                    dataRoot,
                    "--sshfs-remote",
                    "zfs-csi@127.0.0.1:/",
                    "--sshfs-port",
                    "22",
                    "--sshfs-identity",
                    key,
                    "--sshfs-known-hosts",
                    vm.Vm.KnownHostsFile,
                    "--sshfs-check-interval",
                    "1",
                ],
                vm.Vm.NetworkNamespace
            );
        return new NodePlugin(await start(), kubelet, start, () =>
            vm.RunAsync("sed", ["-i", $"/zfs-csi-conformance-{pool.Tag}$/d", "/etc/ssh/zfs-csi-nodes.keys"])
        );
    }

    /// <summary>Whether this driver build has the node plugin: its usage (printed for an unknown flag) names --data-root.</summary>
    private static async Task<bool> SupportsNodeFlagsAsync()
    {
        var driver = RepoLayout.DriverCommand();
        var usage = await Shell.RunAsync(
            driver[0],
            [.. driver.Skip(1), "--conformance-probe-unknown-flag"],
            TimeSpan.FromSeconds(60)
        );
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
            if (_revokeKey is not null)
            {
                await _revokeKey();
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
