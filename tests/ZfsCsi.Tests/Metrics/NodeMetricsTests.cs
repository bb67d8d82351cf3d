using Csi.V1;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Metrics;
using ZfsCsi.Driver.Options;
using ZfsCsi.Driver.Services;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Metrics;

public sealed class NodeMetricsTests
{
    private readonly MetricsRegistry _registry = new();

    [Fact]
    public async Task The_data_root_is_in_exactly_one_state_at_a_time()
    {
        var metrics = new NodeMetrics(_registry);
        var mount = MountInfoParser
            .Parse("36 25 0:32 / /data rw,relatime - fuse.sshfs storage:/ rw,user_id=0\n")
            .Single();

        metrics.DataRootProbed(new DataRootState(true, "answers", mount));
        var up = Exposition.Parse(await _registry.ExportAsync());
        metrics.DataRootProbed(DataRootState.Dead("dead: ENOTCONN", mount, disconnected: true));
        var dead = Exposition.Parse(await _registry.ExportAsync());
        metrics.DataRootProbed(DataRootState.Dead("/data is not mounted", null));
        var unmounted = Exposition.Parse(await _registry.ExportAsync());

        Assert.Equal([1, 0, 0], NodeMetrics.States.Select(s => up.Value("zfs_csi_node_data_root_state", ("state", s))));
        Assert.Equal(
            [0, 0, 1],
            NodeMetrics.States.Select(s => dead.Value("zfs_csi_node_data_root_state", ("state", s)))
        );
        Assert.Equal(
            [0, 1, 0],
            NodeMetrics.States.Select(s => unmounted.Value("zfs_csi_node_data_root_state", ("state", s)))
        );
    }

    [Fact]
    public async Task Mounts_failures_and_fences_are_counted_and_start_at_zero()
    {
        var metrics = new NodeMetrics(_registry);
        var before = Exposition.Parse(await _registry.ExportAsync());

        metrics.SshfsMounted();
        metrics.SshfsMounted();
        metrics.SshfsMountFailed();
        metrics.BindFenced(VolumeId.TryParse("data/k8s/pvc-1", Core.Zfs.DatasetName.Parse("data/k8s"))!.Value);

        var after = Exposition.Parse(await _registry.ExportAsync());
        Assert.Equal(0, before.Value("zfs_csi_node_sshfs_mounts_total"));
        Assert.Equal(2, after.Value("zfs_csi_node_sshfs_mounts_total"));
        Assert.Equal(1, after.Value("zfs_csi_node_sshfs_mount_failures_total"));
        Assert.Equal(1, after.Value("zfs_csi_node_binds_fenced_total", ("volume_id", "data/k8s/pvc-1")));
        Assert.Equal("counter", after.Types["zfs_csi_node_sshfs_mounts_total"]);
    }

    [Fact]
    public async Task A_failed_NodeGetVolumeStats_is_counted_for_its_volume_with_the_reason()
    {
        var options = DriverOptions.Parse([
            "--mode",
            "node",
            "--nodeid",
            "n",
            "--kubelet-dir",
            "/var/lib/kubelet",
            "--parent-dataset",
            "data/k8s",
        ]);
        var logger = Serilog.Core.Logger.None;
        var metrics = new NodeMetrics(_registry);
        var volumes = new NodeVolumes(
            options.Node,
            options.Volumes,
            new DataRoot(options.Node, new FakeCommandRunner(), new LinuxKernel(), logger, metrics),
            new LinuxKernel(),
            logger,
            metrics
        );
        var service = new NodeService(volumes, new OperationLocks(), options, metrics);

        // A relative path (csi-sanity's "some/path") is NOT_FOUND before anything is read from disk.
        await Assert.ThrowsAsync<NotFoundException>(() =>
            service.NodeGetVolumeStats(
                new NodeGetVolumeStatsRequest { VolumeId = "data/k8s/pvc-1", VolumePath = "some/path" },
                new TestServerCallContext()
            )
        );

        var scrape = Exposition.Parse(await _registry.ExportAsync());
        Assert.Equal(
            1,
            scrape.Value(
                "zfs_csi_node_volume_stats_failures_total",
                ("volume_id", "data/k8s/pvc-1"),
                ("reason", "not_found")
            )
        );
    }
}
