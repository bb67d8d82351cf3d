using System.Diagnostics;
using Csi.V1;
using Grpc.Core;
using Xunit.Abstractions;
using static ZfsCsi.IntegrationTests.Cluster.NodeRequests;
using static ZfsCsi.IntegrationTests.Controller.Requests;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>Publishing volumes into pods on the emulated nodes: real SSHFS, real binds in real mount namespaces.</summary>
[Collection(ClusterCollection.Name)]
public sealed class NodePublishTests(ClusterFixture cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task A_volume_published_on_two_nodes_shows_each_nodes_writes_on_the_other()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-share"));
        var onYakko = cluster.Yakko.NewTarget();
        var onWakko = cluster.Wakko.NewTarget();

        var watch = Stopwatch.StartNew();
        await cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, onYakko));
        output.WriteLine($"publish on yakko: {watch.Elapsed.TotalMilliseconds:F0} ms");
        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, onWakko));
        try
        {
            await cluster.Yakko.CheckAsync("sh", "-c", "echo from-yakko > \"$1/hello\"", "sh", onYakko);
            await SeesAsync(cluster.Wakko, $"{onWakko}/hello", "from-yakko\n");
            await cluster.Wakko.CheckAsync("sh", "-c", "echo from-wakko >> \"$1/hello\"", "sh", onWakko);
            await SeesAsync(cluster.Yakko, $"{onYakko}/hello", "from-yakko\nfrom-wakko\n");
            // The bind is of the dataset on alice, not of some other directory.
            Assert.Equal("from-yakko\nfrom-wakko\n", await File.ReadAllTextAsync($"{cluster.AlicePath(id)}/hello"));
        }
        finally
        {
            watch.Restart();
            await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, onYakko));
            output.WriteLine($"unpublish on yakko: {watch.Elapsed.TotalMilliseconds:F0} ms");
            await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, onWakko));
        }
        Assert.False(cluster.Yakko.HasMountAt(onYakko));
        Assert.False(Directory.Exists(onYakko));
    }

    /// <summary>
    /// Another node sees a change within FUSE's attribute cache time (1 s, kernel side; sshfs's own
    /// 20 s cache is off: dir_cache=no), as with NFS's close-to-open: wait for it, bounded.
    /// </summary>
    private async Task SeesAsync(ClusterNode node, string file, string expected)
    {
        var watch = Stopwatch.StartNew();
        string seen;
        while ((seen = await node.CheckAsync("cat", file)) != expected)
        {
            Assert.True(
                watch.Elapsed < TimeSpan.FromSeconds(3),
                $"{node.Name} still sees '{seen}' in {file} after 3 s"
            );
            await Task.Delay(100);
        }
        output.WriteLine($"{node.Name} saw the write after {watch.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_read_only_publish_refuses_writes_while_a_writer_elsewhere_can_write()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-ro"));
        var reader = cluster.Yakko.NewTarget();
        var writer = cluster.Wakko.NewTarget();
        await cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, reader, readOnly: true));
        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, writer));
        try
        {
            var write = await cluster.Yakko.ExecAsync("touch", $"{reader}/nope");
            Assert.NotEqual(0, write.ExitCode);
            Assert.True(
                write.StandardError.Contains("Read-only file system", StringComparison.Ordinal),
                write.StandardError
            );
            await cluster.Wakko.CheckAsync("touch", $"{writer}/yes");
            Assert.Equal("", await cluster.Yakko.CheckAsync("find", reader, "-name", "nope"));
            Assert.Contains("yes", await cluster.Yakko.CheckAsync("ls", reader));
            Assert.Contains(
                " ro,",
                cluster.Yakko.MountInfo.Split('\n').Single(l => l.Contains($" {reader} ", StringComparison.Ordinal))
            );
        }
        finally
        {
            await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, reader));
            await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, writer));
        }
    }

    [Fact]
    public async Task Df_in_the_pods_view_and_NodeGetVolumeStats_show_the_volumes_quota()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-df"), 24 * MiB);
        var target = cluster.Dot.NewTarget();
        await cluster.Dot.Node.NodePublishVolumeAsync(Publish(id, target));
        try
        {
            var df = (await cluster.Dot.CheckAsync("df", "-B1", "--output=size", target)).Split('\n')[1].Trim();
            Assert.Equal(24 * MiB, long.Parse(df));

            var stats = await cluster.Dot.Node.NodeGetVolumeStatsAsync(
                new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = target }
            );
            var bytes = stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes);
            var inodes = stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Inodes);
            Assert.Equal(24 * MiB, bytes.Total);
            Assert.InRange(bytes.Used, 1, 1 * MiB);
            Assert.InRange(bytes.Available, 22 * MiB, 24 * MiB);
            Assert.True(inodes.Total > 0 && inodes.Used >= 0);
            output.WriteLine($"stats: {bytes} {inodes}");
        }
        finally
        {
            await cluster.Dot.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
        }
    }

    [Fact]
    public async Task Publishing_again_is_idempotent_and_other_options_at_the_same_target_are_already_exists()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-idem"));
        var target = cluster.Yakko.NewTarget();
        await cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target, flags: ["noexec", "noatime"]));
        try
        {
            var again = Stopwatch.StartNew();
            await cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target, flags: ["noexec", "noatime"]));
            output.WriteLine($"idempotent publish: {again.Elapsed.TotalMilliseconds:F0} ms");
            var line = cluster
                .Yakko.MountInfo.Split('\n')
                .Where(l => l.Contains($" {target} ", StringComparison.Ordinal))
                .ToList();
            Assert.Single(line);
            Assert.Contains("noexec", line[0]);
            Assert.Contains("noatime", line[0]);

            var ro = await Assert.ThrowsAsync<RpcException>(() =>
                cluster
                    .Yakko.Node.NodePublishVolumeAsync(
                        Publish(id, target, readOnly: true, flags: ["noexec", "noatime"])
                    )
                    .ResponseAsync
            );
            Assert.Equal(StatusCode.AlreadyExists, ro.StatusCode);
            var other = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target)).ResponseAsync
            );
            Assert.Equal(StatusCode.AlreadyExists, other.StatusCode);
        }
        finally
        {
            await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
        }
    }

    [Fact]
    public async Task Sync_and_dirsync_are_refused_with_the_reason_and_create_nothing()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-sync"));
        var target = cluster.Yakko.NewTarget();
        foreach (var flag in new[] { "sync", "dirsync" })
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target, flags: [flag])).ResponseAsync
            );
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.Contains("bind remount only changes per-mount flags", e.Status.Detail);
        }
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task Relatime_strictatime_and_noatime_publishes_of_one_target_are_compared_and_an_identical_retry_is_ok()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-atime"));
        foreach (
            var (first, others) in new[]
            {
                ("noatime", new[] { "relatime", "strictatime" }),
                ("strictatime", ["relatime", "noatime"]),
                ("relatime", ["strictatime", "noatime"]),
            }
        )
        {
            var target = cluster.Wakko.NewTarget();
            await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, target, flags: [first]));
            try
            {
                await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, target, flags: [first]));
                foreach (var other in others)
                {
                    var e = await Assert.ThrowsAsync<RpcException>(() =>
                        cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, target, flags: [other])).ResponseAsync
                    );
                    Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
                }
                var options = cluster
                    .Wakko.MountInfo.Split('\n')
                    .Single(l => l.Contains($" {target} ", StringComparison.Ordinal))
                    .Split(' ')[5];
                output.WriteLine($"{first}: {options}");
                Assert.Equal(first != "strictatime", options.Contains(first, StringComparison.Ordinal));
            }
            finally
            {
                await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
            }
        }
    }

    [Fact]
    public async Task Two_volumes_published_to_one_target_at_once_leave_exactly_one_bind()
    {
        var a = await cluster.CreateVolumeAsync(Unique("pvc-lock-a"));
        var b = await cluster.CreateVolumeAsync(Unique("pvc-lock-b"));
        for (var round = 0; round < 5; round++)
        {
            var target = cluster.Dot.NewTarget();
            // "T" and "T/" are one target.
            var codes = await Task.WhenAll(
                CodeOf(Publish(a, target)),
                CodeOf(Publish(b, target + "/")),
                CodeOf(Publish(a, target + "/"))
            );
            try
            {
                var binds = cluster
                    .Dot.MountInfo.Split('\n')
                    .Count(l => l.Split(' ') is { Length: > 5 } f && f[4] == target);
                output.WriteLine($"round {round}: {string.Join(", ", codes)}; {binds} mount(s) at the target");
                Assert.Equal(1, binds);
                Assert.All(codes, c =>
                    Assert.True(
                        c is StatusCode.OK or StatusCode.Aborted or StatusCode.FailedPrecondition,
                        $"unexpected {c}"
                    )
                );
            }
            finally
            {
                await cluster.Dot.Node.NodeUnpublishVolumeAsync(Unpublish(a, target));
            }
        }

        async Task<StatusCode> CodeOf(NodePublishVolumeRequest request)
        {
            try
            {
                await cluster.Dot.Node.NodePublishVolumeAsync(request);
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        }
    }

    [Fact]
    public async Task Unpublishing_a_target_that_is_not_mounted_or_does_not_exist_succeeds()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-unp"));
        var missing = cluster.Yakko.NewTarget();
        await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, missing));

        var bare = cluster.Yakko.NewTarget();
        Directory.CreateDirectory(bare);
        await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, bare));
        Assert.False(Directory.Exists(bare));
    }

    [Fact]
    public async Task Unpublishing_twice_at_once_leaves_the_target_unmounted_and_both_calls_settle()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-twice"));
        var target = cluster.Wakko.NewTarget();
        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, target));

        var calls = Enumerable
            .Range(0, 2)
            .Select(async _ =>
            {
                try
                {
                    await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
                    return StatusCode.OK;
                }
                catch (RpcException e)
                {
                    return e.StatusCode;
                }
            })
            .ToList();
        var codes = await Task.WhenAll(calls);

        // One unmounts; the other either finds nothing to do or is told to retry (ABORTED).
        Assert.Contains(StatusCode.OK, codes);
        Assert.All(codes, c => Assert.True(c is StatusCode.OK or StatusCode.Aborted, $"unexpected {c}"));
        await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
        Assert.False(cluster.Wakko.HasMountAt(target));
    }

    [Fact]
    public async Task Malformed_and_foreign_volume_ids_are_not_found_and_touch_nothing()
    {
        var target = cluster.Yakko.NewTarget();
        foreach (
            var id in new[]
            {
                "no-slash",
                $"{cluster.Pool.Parent}/..",
                $"{cluster.Pool.Parent}/a/b",
                "otherpool/k8s/pvc-1",
                $"{cluster.Pool.Parent}/-x",
                $"{cluster.Pool.Parent}/bad name\n",
            }
        )
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target)).ResponseAsync
            );
            Assert.Equal(StatusCode.NotFound, e.StatusCode);
        }
        var gone = await Assert.ThrowsAsync<RpcException>(() =>
            cluster
                .Yakko.Node.NodePublishVolumeAsync(Publish($"{cluster.Pool.Parent}/pvc-never-created", target))
                .ResponseAsync
        );
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task Relative_outside_and_dotted_target_paths_are_invalid_argument()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-paths"));
        foreach (
            var target in new[]
            {
                "relative/mount",
                "/etc",
                "/tmp/x/mount",
                $"{cluster.Yakko.KubeletDir}/../escape",
                $"{cluster.Yakko.KubeletDir}/pods/./x",
                cluster.Yakko.KubeletDir,
                "",
            }
        )
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target)).ResponseAsync
            );
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            var u = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target)).ResponseAsync
            );
            Assert.Equal(StatusCode.InvalidArgument, u.StatusCode);
        }
    }

    [Fact]
    public async Task Missing_capability_block_access_and_unknown_mount_flags_are_invalid_argument()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-caps"));
        var target = cluster.Yakko.NewTarget();
        var noCapability = Publish(id, target);
        noCapability.VolumeCapability = null;
        var block = Publish(id, target);
        block.VolumeCapability = Block(Mode.MultiNodeMultiWriter);
        var noMode = Publish(id, target);
        noMode.VolumeCapability.AccessMode = null;
        foreach (
            var request in new[]
            {
                noCapability,
                block,
                noMode,
                Publish(id, target, flags: ["uid=1000"]),
                Publish(id, target, flags: ["exec;rm"]),
            }
        )
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(request).ResponseAsync
            );
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail));
        }
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task A_target_that_is_already_a_mount_of_something_else_is_refused_and_left_alone()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-other"));
        var target = cluster.Yakko.NewTarget();
        Directory.CreateDirectory(target);
        await cluster.Yakko.CheckAsync("mount", "-t", "tmpfs", "-o", "size=1m", "elsewhere", target);
        try
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target)).ResponseAsync
            );
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains(
                "tmpfs",
                cluster.Yakko.MountInfo.Split('\n').Single(l => l.Contains($" {target} ", StringComparison.Ordinal))
            );
        }
        finally
        {
            await cluster.Yakko.ExecAsync("umount", target);
        }
    }

    [Fact]
    public async Task A_symlink_planted_where_a_volume_directory_should_be_is_refused()
    {
        // Someone with access to the parent dataset replaces a volume's directory with a link to /etc.
        var name = Unique("pvc-link");
        var planted = $"{cluster.Pool.Mountpoint}/k8s/{name}";
        File.CreateSymbolicLink(planted, "/etc");
        var target = cluster.Yakko.NewTarget();
        try
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                cluster
                    .Yakko.Node.NodePublishVolumeAsync(Publish($"{cluster.Pool.Parent}/{name}", target))
                    .ResponseAsync
            );
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("symbolic link", e.Status.Detail);
            Assert.False(cluster.Yakko.HasMountAt(target));
        }
        finally
        {
            File.Delete(planted);
        }
    }

    [Fact]
    public async Task A_symlink_inside_a_volume_pointing_at_etc_stays_a_link_and_the_bind_is_the_volume()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-inner"));
        File.CreateSymbolicLink($"{cluster.AlicePath(id)}/etc-link", "/etc");
        var target = cluster.Wakko.NewTarget();
        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, target));
        try
        {
            // The bind's root is the dataset's directory, not what the link points at. The pod sees a symbolic link, never the node's /etc in its place. (Reading an absolute
            // link through SSHFS fails with EPERM on this kernel/sshfs 3.7; a relative one reads fine.)
            Assert.Equal("symbolic link\n", await cluster.Wakko.CheckAsync("stat", "-c", "%F", $"{target}/etc-link"));
            var line = cluster
                .Wakko.MountInfo.Split('\n')
                .Single(l => l.Contains($" {target} ", StringComparison.Ordinal));
            Assert.Equal($"/k8s/{id[(id.LastIndexOf('/') + 1)..]}", line.Split(' ')[3]);
        }
        finally
        {
            await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
        }
    }

    [Fact]
    public async Task Stats_and_health_of_a_path_that_is_not_a_published_volume_are_not_found_or_not_published()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-nstat"));
        var target = cluster.Yakko.NewTarget();
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            cluster
                .Yakko.Node.NodeGetVolumeStatsAsync(
                    new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = target }
                )
                .ResponseAsync
        );
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            cluster
                .Yakko.Node.NodeGetVolumeStatsAsync(
                    new NodeGetVolumeStatsRequest { VolumeId = "foreign/x", VolumePath = target }
                )
                .ResponseAsync
        );
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        // csi-sanity: "should fail when volume does not exist on the specified path" sends a relative path.
        foreach (var path in new[] { "some/path", "/etc", $"{cluster.Yakko.KubeletDir}/../x" })
        {
            var notHere = await Assert.ThrowsAsync<RpcException>(() =>
                cluster
                    .Yakko.Node.NodeGetVolumeStatsAsync(
                        new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = path }
                    )
                    .ResponseAsync
            );
            Assert.Equal(StatusCode.NotFound, notHere.StatusCode);
            var health = await cluster.Yakko.Node.NodeGetVolumeHealthAsync(
                new NodeGetVolumeHealthRequest { VolumeId = id, VolumePublishPath = path }
            );
            Assert.Equal("NotPublished", health.VolumeHealth.HealthStatuses.Single().Reason);
        }
        var empty = await Assert.ThrowsAsync<RpcException>(() =>
            cluster
                .Yakko.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = "" })
                .ResponseAsync
        );
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);

        var healthy = await cluster.Yakko.Node.NodeGetVolumeHealthAsync(
            new NodeGetVolumeHealthRequest { VolumeId = id }
        );
        Assert.Empty(healthy.VolumeHealth.HealthStatuses);
        var notPublished = await cluster.Yakko.Node.NodeGetVolumeHealthAsync(
            new NodeGetVolumeHealthRequest { VolumeId = id, VolumePublishPath = target }
        );
        Assert.Equal("NotPublished", notPublished.VolumeHealth.HealthStatuses.Single().Reason);
    }

    [Fact]
    public async Task Node_info_capabilities_and_probe_describe_a_ready_node_without_topology_or_staging()
    {
        var info = await cluster.Dot.Node.NodeGetInfoAsync(new NodeGetInfoRequest());
        Assert.Equal("dot", info.NodeId);
        Assert.Null(info.AccessibleTopology);

        var caps = (await cluster.Dot.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest()))
            .Capabilities.Select(c => c.Rpc.Type)
            .ToList();
        Assert.Contains(NodeServiceCapability.Types.RPC.Types.Type.GetVolumeStats, caps);
        Assert.Contains(NodeServiceCapability.Types.RPC.Types.Type.GetVolumeHealth, caps);
        Assert.DoesNotContain(NodeServiceCapability.Types.RPC.Types.Type.StageUnstageVolume, caps);
        Assert.DoesNotContain(NodeServiceCapability.Types.RPC.Types.Type.ExpandVolume, caps);

        Assert.True((await cluster.Dot.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);
    }
}
