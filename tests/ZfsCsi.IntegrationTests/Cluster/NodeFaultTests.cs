using System.Diagnostics;
using Csi.V1;
using Grpc.Core;
using Xunit.Abstractions;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Cluster.NodeRequests;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>Faults on the emulated cluster: a dataset unmounted on alice, a dead sshfs, a cut link.</summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeFaultTests(ClusterFixture cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task A_dataset_unmounted_on_alice_is_refused_and_reported_inaccessible()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-unmounted"));
        var target = cluster.Yakko.NewTarget();
        await TestPool.UnmountPublishedAsync(id);
        try
        {
            // Its directory now belongs to the parent dataset: binding it would write into the parent.
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target)).ResponseAsync
            );
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("not mounted", e.Status.Detail);
            Assert.False(cluster.Yakko.HasMountAt(target));

            var health = await cluster.Yakko.Node.NodeGetVolumeHealthAsync(
                new NodeGetVolumeHealthRequest { VolumeId = id }
            );
            var entry = health.VolumeHealth.HealthStatuses.Single();
            Assert.Equal(VolumeHealthErrorType.Inaccessible, entry.Status);
            Assert.Equal("DatasetNotMounted", entry.Reason);
        }
        finally
        {
            await TestPool.WithMountLockAsync(() => Sh.CheckAsync("zfs", "mount", id));
        }
        await cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target));
        await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
    }

    [Fact]
    public async Task A_destroyed_dataset_is_reported_gone()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-gone"));
        await cluster.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        var health = await cluster.Wakko.Node.NodeGetVolumeHealthAsync(
            new NodeGetVolumeHealthRequest { VolumeId = id }
        );
        Assert.Equal("DatasetGone", health.VolumeHealth.HealthStatuses.Single().Reason);
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, cluster.Wakko.NewTarget())).ResponseAsync
        );
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Fact]
    public async Task A_killed_sshfs_is_mounted_again_and_its_stale_binds_are_cleaned_on_republish_and_unpublish()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-stale"));
        var first = cluster.Wakko.NewTarget();
        var second = cluster.Wakko.NewTarget();
        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, first));
        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, second));
        var device = MountDevice(cluster.Wakko, first);

        // The sshfs process the plugin started dies: /data and every bind of it answer ENOTCONN.
        var sshfs = SshfsPid(cluster.Wakko);
        Process.GetProcessById(sshfs).Kill();
        var killed = Stopwatch.StartNew();

        // The plugin notices and mounts /data again by itself.
        while (SshfsPidOrZero(cluster.Wakko) is 0 || SshfsPidOrZero(cluster.Wakko) == sshfs)
        {
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(20), "the plugin did not mount /data again within 20 s");
            await Task.Delay(100);
        }
        // A new sshfs process exists a moment before its mount answers and the plugin has checked it.
        while ((await cluster.Wakko.Client.Identity.ProbeAsync(new ProbeRequest())).Ready != true)
        {
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(20), "the plugin was not ready again within 20 s");
            await Task.Delay(100);
        }
        output.WriteLine(
            $"/data mounted again and ready {killed.Elapsed.TotalMilliseconds:F0} ms after sshfs was killed"
        );

        // The old binds are of the dead instance: reported, replaced on republish, removed on unpublish.
        var health = await cluster.Wakko.Node.NodeGetVolumeHealthAsync(
            new NodeGetVolumeHealthRequest { VolumeId = id, VolumePublishPath = first }
        );
        Assert.Equal("PublishPathUnavailable", health.VolumeHealth.HealthStatuses.Single().Reason);
        var stats = await Assert.ThrowsAsync<RpcException>(() =>
            cluster
                .Wakko.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = first })
                .ResponseAsync
        );
        Assert.Equal(StatusCode.Unavailable, stats.StatusCode);

        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, first));
        Assert.NotEqual(device, MountDevice(cluster.Wakko, first));
        await cluster.Wakko.CheckAsync("touch", $"{first}/alive");
        Assert.True(File.Exists($"{cluster.AlicePath(id)}/alive"));

        var unpublish = Stopwatch.StartNew();
        await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, second));
        output.WriteLine($"unpublish of a stale bind: {unpublish.Elapsed.TotalMilliseconds:F0} ms");
        Assert.False(cluster.Wakko.HasMountAt(second));
        await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, first));
        Assert.False(cluster.Wakko.HasMountAt(first));
    }

    [Fact]
    public async Task An_sshfs_that_stops_answering_while_its_host_serves_is_aborted_and_mounted_again_and_calls_waiting_on_it_fail_instead_of_hanging()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-stuck"));
        var target = cluster.Wakko.NewTarget();
        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, target));
        var device = MountDevice(cluster.Wakko, target);
        var sshfs = SshfsPid(cluster.Wakko);
        // sshfs's ssh, stopped: the link neither answers nor closes, ssh's keep-alives never fire,
        // and sshfs waits for ever, so its own reconnect never starts. Only the plugin can end it.
        var ssh = SshOf(cluster.Wakko);
        await Sh.CheckAsync("kill", "-STOP", ssh.ToString());
        var stopped = Stopwatch.StartNew();
        try
        {
            // A pod's call on its bind, waiting on the silent sshfs.
            var waiting = cluster.Wakko.ExecAsync(TimeSpan.FromSeconds(120), "stat", "-f", target);

            // The silent sshfs stays until its ssh answers or ends: another one must appear.
            while (SshfsPidOrZero(cluster.Wakko, other: sshfs) is 0)
            {
                Assert.True(
                    stopped.Elapsed < TimeSpan.FromSeconds(60),
                    "the plugin did not mount /data again within 60 s of its sshfs going silent"
                );
                await Task.Delay(200);
            }
            while ((await cluster.Wakko.Client.Identity.ProbeAsync(new ProbeRequest())).Ready != true)
            {
                Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(60), "the plugin was not ready again within 60 s");
                await Task.Delay(200);
            }
            output.WriteLine(
                $"/data mounted again and ready {stopped.Elapsed.TotalMilliseconds:F0} ms after its sshfs went silent (hung grace {ClusterFixture.HungGraceSeconds} s, then trial logins answering for a reconnect grace of 11 s)"
            );

            var call = await waiting;
            output.WriteLine(
                $"the call waiting on the silent sshfs ended after {stopped.Elapsed.TotalMilliseconds:F0} ms: exit {call.ExitCode}: {call.StandardError.Trim()}"
            );
            Assert.NotEqual(0, call.ExitCode);
            Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(90), "the waiting call was not released");
            await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, target));
            Assert.NotEqual(device, MountDevice(cluster.Wakko, target));
            await cluster.Wakko.CheckAsync("touch", $"{target}/alive-again");
            Assert.True(File.Exists($"{cluster.AlicePath(id)}/alive-again"));
            await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
        }
        finally
        {
            if (IsLive(ssh))
            {
                await Sh.RunAsync(TimeSpan.FromSeconds(10), "kill", "-KILL", ssh.ToString());
            }
        }
        // Its connection aborted, the old sshfs ends with its ssh instead of logging in again.
        var gone = Stopwatch.StartNew();
        while (IsLive(sshfs))
        {
            Assert.True(
                gone.Elapsed < TimeSpan.FromSeconds(10),
                $"the aborted sshfs {sshfs} still runs without its ssh"
            );
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_link_cut_for_longer_than_the_reconnect_grace_is_left_to_sshfs_and_the_pods_bind_answers_again_when_it_is_back()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-longcut"));
        var published = cluster.Dot.NewTarget();
        await cluster.Dot.Node.NodePublishVolumeAsync(Publish(id, published));
        var device = MountDevice(cluster.Dot, published);
        var sshfs = SshfsPid(cluster.Dot);
        var aliceNs = cluster.Dot.Netns[..cluster.Dot.Netns.LastIndexOf('-')] + "-alice";

        await Sh.CheckAsync("ip", "-n", aliceNs, "link", "set", cluster.Dot.AliceLink, "down");
        try
        {
            // Two reconnect graces (11 s with the default keep-alives): the plugin's trial logins beside
            // the dead mount fail as the link is down (ConnectTimeout 5 s), and the mount is kept.
            await Task.Delay(TimeSpan.FromSeconds(24));
            Assert.Equal(sshfs, SshfsPidOrZero(cluster.Dot));
            Assert.Equal(device, MountDevice(cluster.Dot, cluster.Dot.DataRoot));
            await File.WriteAllTextAsync($"{cluster.AlicePath(id)}/written-during-cut", "on alice");
        }
        finally
        {
            await Sh.CheckAsync("ip", "-n", aliceNs, "link", "set", cluster.Dot.AliceLink, "up");
        }

        // sshfs's own reconnect brings the same mount back, and with it the pod's bind.
        var back = Stopwatch.StartNew();
        while ((await cluster.Dot.ExecAsync(TimeSpan.FromSeconds(20), "ls", published)) is var ls && ls.ExitCode != 0)
        {
            Assert.True(
                back.Elapsed < TimeSpan.FromSeconds(40),
                $"the pod's bind did not answer again: {ls.StandardError}"
            );
            await Task.Delay(500);
        }
        output.WriteLine(
            $"the pod's bind answered again {back.Elapsed.TotalMilliseconds:F0} ms after the link came back"
        );
        Assert.Contains("written-during-cut", await cluster.Dot.CheckAsync("ls", published));
        Assert.Equal(device, MountDevice(cluster.Dot, published));
        Assert.Equal(sshfs, SshfsPidOrZero(cluster.Dot));
        await cluster.Dot.Node.NodeUnpublishVolumeAsync(Unpublish(id, published));
    }

    [Fact]
    public async Task Cutting_dots_link_is_reported_within_seconds_fails_publish_fast_spares_others_and_heals_without_restart()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-cut"));
        var published = cluster.Dot.NewTarget();
        await cluster.Dot.Node.NodePublishVolumeAsync(Publish(id, published));
        var plugin = cluster.Dot.PluginPid;
        var aliceNs = cluster.Dot.Netns[..cluster.Dot.Netns.LastIndexOf('-')] + "-alice";

        await Sh.CheckAsync("ip", "-n", aliceNs, "link", "set", cluster.Dot.AliceLink, "down");
        var cut = Stopwatch.StartNew();
        try
        {
            // Health turns INACCESSIBLE within seconds.
            while (true)
            {
                var call = Stopwatch.StartNew();
                var health = await cluster.Dot.Node.NodeGetVolumeHealthAsync(
                    new NodeGetVolumeHealthRequest { VolumeId = id, VolumePublishPath = published }
                );
                Assert.True(call.Elapsed < TimeSpan.FromSeconds(8), $"NodeGetVolumeHealth took {call.Elapsed}");
                if (health.VolumeHealth.HealthStatuses.Count > 0)
                {
                    Assert.Equal(VolumeHealthErrorType.Inaccessible, health.VolumeHealth.HealthStatuses[0].Status);
                    output.WriteLine(
                        $"cut link reported after {cut.Elapsed.TotalMilliseconds:F0} ms: {health.VolumeHealth.HealthStatuses[0].Reason}: {health.VolumeHealth.HealthStatuses[0].Message}"
                    );
                    break;
                }
                Assert.True(cut.Elapsed < TimeSpan.FromSeconds(15), "the cut link was not reported within 15 s");
                await Task.Delay(200);
            }

            var statsCall = Stopwatch.StartNew();
            var stats = await Assert.ThrowsAsync<RpcException>(() =>
                cluster
                    .Dot.Node.NodeGetVolumeStatsAsync(
                        new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = published }
                    )
                    .ResponseAsync
            );
            output.WriteLine(
                $"stats on the cut node: {stats.StatusCode} in {statsCall.Elapsed.TotalMilliseconds:F0} ms"
            );
            Assert.Equal(StatusCode.Unavailable, stats.StatusCode);
            Assert.True(statsCall.Elapsed < TimeSpan.FromSeconds(5));

            var publishCall = Stopwatch.StartNew();
            var publish = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Dot.Node.NodePublishVolumeAsync(Publish(id, cluster.Dot.NewTarget())).ResponseAsync
            );
            output.WriteLine(
                $"publish on the cut node: {publish.StatusCode} in {publishCall.Elapsed.TotalMilliseconds:F0} ms: {publish.Status.Detail}"
            );
            Assert.Equal(StatusCode.Unavailable, publish.StatusCode);
            Assert.True(publishCall.Elapsed < TimeSpan.FromSeconds(5));
            Assert.False((await cluster.Dot.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);

            // Other nodes do not notice.
            var onYakko = cluster.Yakko.NewTarget();
            await cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, onYakko));
            await cluster.Yakko.CheckAsync("touch", $"{onYakko}/during-cut");
            await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, onYakko));
        }
        finally
        {
            await Sh.CheckAsync("ip", "-n", aliceNs, "link", "set", cluster.Dot.AliceLink, "up");
        }

        var restored = Stopwatch.StartNew();
        while (
            (
                await cluster.Dot.Node.NodeGetVolumeHealthAsync(
                    new NodeGetVolumeHealthRequest { VolumeId = id, VolumePublishPath = published }
                )
            )
                .VolumeHealth
                .HealthStatuses
                .Count > 0
        )
        {
            Assert.True(
                restored.Elapsed < TimeSpan.FromSeconds(30),
                "dot did not recover within 30 s of the link coming back"
            );
            await Task.Delay(200);
        }
        output.WriteLine($"healthy again {restored.Elapsed.TotalMilliseconds:F0} ms after the link came back");
        Assert.Contains("during-cut", await cluster.Dot.CheckAsync("ls", published));
        var again = cluster.Dot.NewTarget();
        await cluster.Dot.Node.NodePublishVolumeAsync(Publish(id, again));
        await cluster.Dot.Node.NodeUnpublishVolumeAsync(Unpublish(id, again));
        await cluster.Dot.Node.NodeUnpublishVolumeAsync(Unpublish(id, published));
        Assert.Equal(plugin, cluster.Dot.PluginPid);
        Assert.True(Directory.Exists($"/proc/{plugin}"), "the plugin was restarted");
    }

    private static string MountDevice(ClusterNode node, string path) =>
        node.MountInfo.Split('\n').Single(l => l.Split(' ') is { Length: > 5 } f && f[4] == path).Split(' ')[2];

    private static int SshfsPid(ClusterNode node) =>
        SshfsPidOrZero(node) is var pid and > 0
            ? pid
            : throw new InvalidOperationException($"no sshfs process for {node.DataRoot}");

    private static bool IsLive(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// The ssh process sshfs runs for this node's data root: sshfs daemonizes after starting it, so
    /// it is nobody's child; it is the one ssh in the node's network namespace (the name of its ns/net link, "net:[inode]").
    /// </summary>
    private static int SshOf(ClusterNode node)
    {
        var netns = File.ResolveLinkTarget($"/proc/{node.HolderPid}/ns/net", false)?.Name;
        var found = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            try
            {
                if (
                    int.TryParse(Path.GetFileName(dir), out var pid)
                    && File.ReadAllText($"{dir}/comm").Trim() == "ssh"
                    && File.ResolveLinkTarget($"{dir}/ns/net", false)?.Name == netns
                    && IsLive(pid)
                )
                {
                    found.Add(pid);
                }
            }
            catch (IOException) { }
        }
        return found.Count == 1
            ? found[0]
            : throw new InvalidOperationException(
                $"expected one ssh in {node.Name}'s network namespace, found {found.Count}: {string.Join(' ', found)}"
            );
    }

    /// <summary>The sshfs process serving this node's data root (found by its argv, which names the node's own data root).</summary>
    private static int SshfsPidOrZero(ClusterNode node, int other = 0)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var argv = File.ReadAllText($"{dir}/cmdline").Split('\0');
                // A killed sshfs may linger as a zombie until reaped: only a live one counts.
                if (
                    argv.Length > 1
                    && Path.GetFileName(argv[0]) == "sshfs"
                    && argv.Contains(node.DataRoot)
                    && pid != other
                    && !File.ReadAllText($"{dir}/status").Contains("State:\tZ", StringComparison.Ordinal)
                )
                {
                    return pid;
                }
            }
            catch (IOException) { }
        }
        return 0;
    }
}
