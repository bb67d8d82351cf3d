using Csi.V1;
using Grpc.Core;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Cluster.NodeRequests;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>
/// The node plugin on alice herself (--mode both): /data is ZFS's own mount there, so whether a
/// dataset is mounted is read from mountinfo, and binds are of zfs-fuse mounts, not SSHFS.
/// </summary>
public sealed class AliceNodeFixture : DriverFixture
{
    public string KubeletDir { get; } = $"/tmp/zfs-csi-tests/kubelet-{Guid.NewGuid():N}";

    protected override IEnumerable<string> ExtraArgs =>
        ["--mode", "both", "--nodeid", "alice", "--data-root", Pool.Mountpoint, "--kubelet-dir", KubeletDir];

    public override async Task DisposeAsync()
    {
        try
        {
            // Binds a failed test left behind, deepest first, before the pool goes.
            foreach (var line in File.ReadAllLines("/proc/self/mountinfo").Reverse())
            {
                var mountPoint = line.Split(' ')[4];
                if (mountPoint.StartsWith(KubeletDir + "/", StringComparison.Ordinal))
                {
                    await Sh.RunAsync("umount", "-l", mountPoint);
                }
            }
            if (Directory.Exists(KubeletDir))
            {
                Directory.Delete(KubeletDir, recursive: true);
            }
        }
        finally
        {
            await base.DisposeAsync();
            await PoolLeftovers.EnsureDestroyedAsync(Pool.Name);
        }
    }
}

public sealed class AliceNodeTests(AliceNodeFixture alice) : IClassFixture<AliceNodeFixture>
{
    private string NewTarget() => $"{alice.KubeletDir}/pods/{Guid.NewGuid()}/volumes/kubernetes.io~csi/pv/mount";

    [Fact]
    public async Task On_alice_a_volume_binds_its_zfs_mount_and_an_unmounted_dataset_is_refused_from_mountinfo()
    {
        var id = (await alice.Client.Controller.CreateVolumeAsync(Create(Unique("pvc-alice"), 16 * MiB)))
            .Volume
            .VolumeId;
        var target = NewTarget();
        await alice.Client.Node.NodePublishVolumeAsync(Publish(id, target));
        try
        {
            await File.WriteAllTextAsync($"{target}/x", "on alice");
            var mountpoint = await alice.GetPropertyAsync(id, "mountpoint");
            Assert.Equal("on alice", await File.ReadAllTextAsync($"{mountpoint}/x"));
            var line = File.ReadAllLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == target);
            Assert.Contains(" fuse.zfs " + id + " ", line);
            var stats = await alice.Client.Node.NodeGetVolumeStatsAsync(
                new NodeGetVolumeStatsRequest { VolumeId = id, VolumePath = target }
            );
            Assert.Equal(16 * MiB, stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes).Total);
        }
        finally
        {
            await alice.Client.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
        }

        await TestPool.UnmountPublishedAsync(id);
        try
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                alice.Client.Node.NodePublishVolumeAsync(Publish(id, NewTarget())).ResponseAsync
            );
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("not mounted", e.Status.Detail);
        }
        finally
        {
            await TestPool.WithMountLockAsync(() => Sh.CheckAsync("zfs", "mount", id));
        }
    }

    /// <summary>
    /// The flags kept through the read-only remount are the dataset's own mount's, not the pool
    /// root's: otherwise the remount would give the pod exec on a dataset that forbids it. OpenZFS
    /// shows exec=off and setuid=off as the dataset mount's noexec,nosuid; zfs-fuse ignores those
    /// properties, so the test sets the same per-mount flags on the dataset's mount directly.
    /// </summary>
    [Fact]
    public async Task On_alice_a_read_only_publish_keeps_the_datasets_own_noexec_and_nosuid()
    {
        var id = (await alice.Client.Controller.CreateVolumeAsync(Create(Unique("pvc-alice-noexec"), 16 * MiB)))
            .Volume
            .VolumeId;
        var mountpoint = await alice.GetPropertyAsync(id, "mountpoint");
        await TestPool.WithMountLockAsync(() => Sh.CheckAsync("mount", "-o", "remount,bind,noexec,nosuid", mountpoint));
        var datasetOptions = File.ReadAllLines("/proc/self/mountinfo")
            .Single(l => l.Split(' ')[4] == mountpoint)
            .Split(' ')[5];
        Assert.Contains("noexec", datasetOptions);
        Assert.DoesNotContain(
            "noexec",
            File.ReadAllLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == alice.Pool.Mountpoint).Split(' ')[
                5
            ]
        );

        var target = NewTarget();
        await alice.Client.Node.NodePublishVolumeAsync(Publish(id, target, readOnly: true));
        try
        {
            var options = File.ReadAllLines("/proc/self/mountinfo")
                .Single(l => l.Split(' ')[4] == target)
                .Split(' ')[5]
                .Split(',');
            Assert.Contains("ro", options);
            Assert.Contains("noexec", options);
            Assert.Contains("nosuid", options);
            // The same request again matches what is there.
            await alice.Client.Node.NodePublishVolumeAsync(Publish(id, target, readOnly: true));
        }
        finally
        {
            await alice.Client.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
        }
    }
}
