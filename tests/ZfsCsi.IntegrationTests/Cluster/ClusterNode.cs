using CliWrap;
using CliWrap.Buffered;
using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>
/// One emulated node as lab/cluster-up left it (&lt;state&gt;/&lt;node&gt;/node.env): a mount and network
/// namespace held by a long-lived process, its node plugin on its own socket, its SSHFS data root.
/// </summary>
public sealed class ClusterNode : IDisposable
{
    private ClusterNode(IReadOnlyDictionary<string, string> env)
    {
        Name = env["NODE"];
        HolderPid = int.Parse(env["HOLDER_PID"]);
        PluginPid = int.Parse(env["PLUGIN_PID"]);
        Socket = env["SOCKET"];
        DataRoot = env["DATA_ROOT"];
        KubeletDir = env["KUBELET_DIR"];
        Netns = env["NETNS"];
        AliceLink = env["ALICE_LINK"];
        Client = new CsiClient(Socket);
    }

    public string Name { get; }
    public int HolderPid { get; }
    public int PluginPid { get; }
    public string Socket { get; }
    public string DataRoot { get; }
    public string KubeletDir { get; }
    public string Netns { get; }

    /// <summary>alice's end of this node's veth pair, in alice's network namespace.</summary>
    public string AliceLink { get; }

    public CsiClient Client { get; }

    public Csi.V1.Node.NodeClient Node => Client.Node;

    public static ClusterNode Load(string envFile) =>
        new(
            File.ReadAllLines(envFile)
                .Where(l => l.Contains('='))
                .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..])
        );

    /// <summary>A kubelet-like target path for a new pod: &lt;kubelet&gt;/pods/&lt;uid&gt;/volumes/kubernetes.io~csi/&lt;pv&gt;/mount.</summary>
    public string NewTarget(string pv = "pv") =>
        $"{KubeletDir}/pods/{Guid.NewGuid()}/volumes/kubernetes.io~csi/{pv}/mount";

    /// <summary>Runs argv inside the node (its mount and network namespaces), as a pod's process there would.</summary>
    public async Task<BufferedCommandResult> ExecAsync(TimeSpan timeout, params string[] argv)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await Cli.Wrap("nsenter")
            .WithArguments(["-t", HolderPid.ToString(), "-m", "-n", "--", .. argv])
            .WithValidation(CommandResultValidation.None)
            .WithEnvironmentVariables(e => e.Set("LC_ALL", "C"))
            .ExecuteBufferedAsync(cts.Token);
    }

    public Task<BufferedCommandResult> ExecAsync(params string[] argv) => ExecAsync(TimeSpan.FromSeconds(20), argv);

    /// <summary>Runs argv in the node and requires exit code 0.</summary>
    public async Task<string> CheckAsync(params string[] argv)
    {
        var r = await ExecAsync(argv);
        return r.ExitCode == 0
            ? r.StandardOutput
            : throw new InvalidOperationException(
                $"on {Name}: {string.Join(' ', argv)} exited {r.ExitCode}: {r.StandardError.Trim()}"
            );
    }

    /// <summary>The node's mount table, as its plugin sees it.</summary>
    public string MountInfo => File.ReadAllText($"/proc/{HolderPid}/mountinfo");

    public bool HasMountAt(string path) =>
        MountInfo.Split('\n').Any(l => l.Split(' ') is { Length: > 5 } f && f[4] == path);

    public void Dispose() => Client.Dispose();
}
