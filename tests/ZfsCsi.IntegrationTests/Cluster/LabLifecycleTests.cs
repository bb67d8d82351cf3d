using System.Diagnostics;
using Xunit.Abstractions;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>
/// lab/cluster-up and lab/cluster-down on their own (a second, one-node cluster of the fixture's
/// pool): down leaves nothing behind, also when the process holding a node's namespaces died first
/// and left the plugin, sshfs and ssh running inside them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LabLifecycleTests(ClusterFixture cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task Cluster_down_leaves_no_namespace_process_or_mount_also_when_a_nodes_holder_died()
    {
        // "zc": a killed test run's cluster is found and removed by ClusterFixture like its own.
        var state = $"{ClusterFixture.StateRoot}/zc{Random.Shared.Next(0x100000, 0xffffff):x6}";
        var tag = Path.GetFileName(state);
        var watch = Stopwatch.StartNew();
        var up = await Sh.RunAsync(
            TimeSpan.FromMinutes(6),
            Repository.PathOf("lab/cluster-up"),
            "--state",
            state,
            "--nodes",
            "yakko",
            "--alice-root",
            cluster.Pool.Mountpoint,
            "--parent-dataset",
            cluster.Pool.Parent,
            "--driver",
            await Published.DriverAsync(),
            "--owner-pid",
            Environment.ProcessId.ToString()
        );
        string nodeNs,
            sshdNs;
        try
        {
            Assert.True(up.ExitCode == 0, $"cluster-up failed: {up.StandardError}");
            output.WriteLine($"cluster-up: {watch.Elapsed.TotalMilliseconds:F0} ms");
            nodeNs = (await File.ReadAllTextAsync($"{state}/yakko/mntns")).Trim();
            sshdNs = (await File.ReadAllTextAsync($"{state}/sshd.mntns")).Trim();
            var holder = int.Parse((await File.ReadAllTextAsync($"{state}/yakko/holder.pid")).Trim());

            Process.GetProcessById(holder).Kill();
            await Process
                .GetProcessById(holder)
                .WaitForExitAsync()
                .WaitAsync(TimeSpan.FromSeconds(5))
                .ContinueWith(_ => { });
            // The namespace outlives its holder: the plugin and sshfs are still in it.
            Assert.NotEmpty(ProcessesIn(nodeNs));
        }
        finally
        {
            watch.Restart();
            var down = await Sh.RunAsync(Repository.PathOf("lab/cluster-down"), "--state", state);
            output.WriteLine(
                $"cluster-down: {watch.Elapsed.TotalMilliseconds:F0} ms: {down.StandardOutput.Trim()} {down.StandardError.Trim()}"
            );
            Assert.Equal(0, down.ExitCode);
        }

        Assert.False(Directory.Exists(state), $"{state} is still there");
        var namespaces = await Sh.CheckAsync("ip", "netns", "list");
        Assert.DoesNotContain($"{tag}-", namespaces);
        Assert.Empty(ProcessesIn(nodeNs));
        Assert.Empty(ProcessesIn(sshdNs));
        Assert.Empty(ProcessesNaming(state));
        Assert.DoesNotContain(state, await File.ReadAllTextAsync("/proc/self/mountinfo"));
        Assert.DoesNotContain(Directory.GetFiles("/run/netns"), f =>
            Path.GetFileName(f).StartsWith(tag + "-", StringComparison.Ordinal)
        );
    }

    /// <summary>Live processes whose mount namespace has this inode.</summary>
    private static List<int> ProcessesIn(string mountNamespaceInode) =>
        LivePids().Where(pid => Inode($"/proc/{pid}/ns/mnt") == mountNamespaceInode).ToList();

    /// <summary>Live processes whose command line names the path (plugins, sshfs, sshd of that cluster).</summary>
    private static List<int> ProcessesNaming(string path) =>
        LivePids()
            .Where(pid =>
            {
                try
                {
                    return File.ReadAllText($"/proc/{pid}/cmdline").Contains(path, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
            })
            .ToList();

    private static IEnumerable<int> LivePids() =>
        Directory
            .GetDirectories("/proc")
            .Select(Path.GetFileName)
            .Select(n => int.TryParse(n, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && pid != Environment.ProcessId && !IsZombie(pid));

    private static bool IsZombie(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static string? Inode(string nsLink)
    {
        try
        {
            // "mnt:[4026532xyz]"
            var target = new FileInfo(nsLink).LinkTarget;
            return target?[(target.IndexOf('[') + 1)..target.IndexOf(']')];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
