using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>
/// The emulated four-host cluster for node tests: alice is this machine's zfs-fuse with a pool of
/// the fixture's own (and the controller serving it in-process, as DriverFixture); yakko, wakko
/// and dot come from lab/cluster-up, each a mount+network namespace with its own node plugin
/// process and SSHFS mount of the pool's root. lab/cluster-down runs on dispose, also after a
/// failed start; clusters left by killed test runs (their owner pid gone) are removed first.
/// </summary>
public sealed class ClusterFixture : DriverFixture
{
    public const string StateRoot = "/run/zfs-csi-lab";
    private readonly List<ClusterNode> _nodes = [];

    /// <summary>Short and unique: it names namespaces and veth links.</summary>
    public string StateDir { get; } = $"{StateRoot}/zc{Random.Shared.Next(0x100000, 0xffffff):x6}";

    public ClusterNode Yakko => _nodes.Single(n => n.Name == "yakko");
    public ClusterNode Wakko => _nodes.Single(n => n.Name == "wakko");
    public ClusterNode Dot => _nodes.Single(n => n.Name == "dot");

    /// <summary>The node plugins' --sshfs-hung-grace here.</summary>
    public const int HungGraceSeconds = 15;

    public override async Task InitializeAsync()
    {
        // First: an orphan cluster's SSHFS mounts keep its pool busy, and TestPool destroys orphan pools.
        await RemoveOrphansAsync();
        await base.InitializeAsync();
        try
        {
            var up = await Sh.RunAsync(
                TimeSpan.FromMinutes(6),
                Repository.PathOf("lab/cluster-up"),
                "--state",
                StateDir,
                "--alice-root",
                Pool.Mountpoint,
                "--parent-dataset",
                Pool.Parent,
                "--driver",
                await Published.DriverAsync(),
                "--owner-pid",
                Environment.ProcessId.ToString(),
                // A mount that gives no answer at all waits 300 s by default before trial logins
                // decide; NodeFaultTests' stopped ssh would take that long.
                "--plugin-arg",
                "--sshfs-hung-grace",
                "--plugin-arg",
                HungGraceSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)
            );
            if (up.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"lab/cluster-up failed ({up.ExitCode}): {up.StandardError.Trim()}\n{up.StandardOutput}"
                );
            }
            foreach (var name in new[] { "yakko", "wakko", "dot" })
            {
                _nodes.Add(ClusterNode.Load($"{StateDir}/{name}/node.env"));
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public override async Task DisposeAsync()
    {
        try
        {
            foreach (var node in _nodes)
            {
                node.Dispose();
            }
            var down = await Sh.RunAsync(Repository.PathOf("lab/cluster-down"), "--state", StateDir);
            if (down.ExitCode != 0)
            {
                await Console.Error.WriteLineAsync($"lab/cluster-down failed: {down.StandardError}");
            }
        }
        finally
        {
            await base.DisposeAsync();
            await PoolLeftovers.EnsureDestroyedAsync(Pool.Name);
        }
    }

    /// <summary>Creates a volume through the real controller; returns its id.</summary>
    public async Task<string> CreateVolumeAsync(string name, long bytes = 16 * 1024 * 1024)
    {
        var response = await Client.Controller.CreateVolumeAsync(Controller.Requests.Create(name, bytes));
        return response.Volume.VolumeId;
    }

    /// <summary>Where alice (this machine) sees a volume's directory.</summary>
    public string AlicePath(string volumeId) => $"{Pool.Mountpoint}/{volumeId[(volumeId.IndexOf('/') + 1)..]}";

    /// <summary>A cluster whose owner (a test process) is gone was left by a killed run: take it down.</summary>
    private static async Task RemoveOrphansAsync()
    {
        if (!Directory.Exists(StateRoot))
        {
            return;
        }
        foreach (var dir in Directory.GetDirectories(StateRoot, "zc*"))
        {
            var ownerFile = Path.Combine(dir, "owner");
            if (
                File.Exists(ownerFile)
                && int.TryParse(File.ReadAllText(ownerFile).Trim(), out var owner)
                && owner != Environment.ProcessId
                && !Directory.Exists($"/proc/{owner}")
            )
            {
                await Sh.RunAsync(Repository.PathOf("lab/cluster-down"), "--state", dir);
            }
        }
    }
}
