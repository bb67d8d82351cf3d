using System.Diagnostics;
using Csi.V1;
using Grpc.Net.Client;

namespace ZfsCsi.Lab;

/// <summary>
/// One node of the emulated cluster (lab/cluster-up): its node plugin's socket, and a way to run a
/// command as a pod on that node would see things (inside the node's mount namespace).
/// </summary>
public sealed class LabNode : IDisposable
{
    private readonly GrpcChannel _channel;

    private LabNode(string name, IReadOnlyDictionary<string, string> env)
    {
        Name = name;
        HolderPid = env["HOLDER_PID"];
        KubeletDir = env["KUBELET_DIR"];
        _channel = UnixSocketChannel.Create(env["SOCKET"]);
        Client = new Node.NodeClient(_channel);
    }

    public string Name { get; }
    public string HolderPid { get; }
    public string KubeletDir { get; }
    public Node.NodeClient Client { get; }

    /// <summary>Reads &lt;state&gt;/&lt;node&gt;/node.env, written by lab/cluster-up.</summary>
    public static LabNode Open(string state, string name)
    {
        var file = Path.Combine(state, name, "node.env");
        if (!File.Exists(file))
        {
            throw new LabException($"no node {name} in {state}: start the cluster with lab/cluster-up");
        }
        var env = File.ReadLines(file)
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1]);
        return new LabNode(name, env);
    }

    /// <summary>A kubelet-like target path for a pod on this node.</summary>
    public string TargetFor(string podUid, string pv) =>
        Path.Combine(KubeletDir, "pods", podUid, "volumes", "kubernetes.io~csi", pv, "mount");

    /// <summary>Runs argv inside the node's mount namespace (as its pods see the filesystem); no shell.</summary>
    public async Task<string> RunAsync(params string[] argv)
    {
        var start = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-t", HolderPid, "-m", "--" }.Concat(argv))
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start) ?? throw new LabException("cannot start nsenter");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0
            ? await stdout
            : throw new LabException(
                $"on {Name}: {string.Join(' ', argv)} exited {process.ExitCode}: {(await stderr).Trim()}"
            );
    }

    public void Dispose() => _channel.Dispose();
}
