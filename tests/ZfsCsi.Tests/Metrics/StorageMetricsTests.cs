using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Metrics;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Metrics;
using ZfsCsi.Driver.Options;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Metrics;

public sealed class StorageMetricsTests : IDisposable
{
    private readonly MetricsRegistry _registry = new();
    private readonly FakeCommandRunner _runner = new();
    private readonly MountSerializer _mounts = new(lockFile: null);

    public void Dispose() => _mounts.Dispose();

    private static StorageSample Sample(string health, params string[] volumes) =>
        new(
            new PoolSample("data", health, 10_000, 4_000, null),
            [.. volumes.Select(v => new VolumeSample(v, 100, 20, 1 << 20, 1.25))],
            2,
            777
        );

    [Fact]
    public async Task The_pool_health_is_one_series_at_1_and_every_other_health_at_0()
    {
        var metrics = new StorageMetrics(_registry);

        metrics.Publish(Sample("DEGRADED"), TimeSpan.FromMilliseconds(12));

        var scrape = Exposition.Parse(await _registry.ExportAsync());
        Assert.Equal(1, scrape.Value("zfs_csi_pool_health", ("pool", "data"), ("health", "DEGRADED")));
        Assert.Equal(0, scrape.Value("zfs_csi_pool_health", ("pool", "data"), ("health", "ONLINE")));
        Assert.Equal(
            StorageMetrics.Healths.Length - 1,
            scrape.Samples.Count(s => s.Name == "zfs_csi_pool_health" && s.Value == 0)
        );
        Assert.Equal(1, scrape.Value("zfs_csi_pool_imported", ("pool", "data")));
        Assert.Equal(10_000, scrape.Value("zfs_csi_pool_size_bytes", ("pool", "data")));
        Assert.Equal(4_000, scrape.Value("zfs_csi_pool_free_bytes", ("pool", "data")));
        // Not reported (zfs-fuse): no series rather than a made-up 0.
        Assert.False(scrape.Has("zfs_csi_pool_fragmentation_ratio"));
        Assert.Equal(2, scrape.Value("zfs_csi_kept_volumes"));
        Assert.Equal(777, scrape.Value("zfs_csi_kept_volumes_used_bytes"));
        Assert.Equal(0.012, scrape.Value("zfs_csi_storage_collection_duration_seconds"), 6);
    }

    [Fact]
    public async Task A_volume_gone_at_the_next_sample_loses_its_series_and_the_others_keep_theirs()
    {
        var metrics = new StorageMetrics(_registry);
        metrics.Publish(Sample("ONLINE", "data/k8s/pvc-1", "data/k8s/pvc-2"), TimeSpan.Zero);

        metrics.Publish(Sample("ONLINE", "data/k8s/pvc-2"), TimeSpan.Zero);

        var scrape = Exposition.Parse(await _registry.ExportAsync());
        foreach (
            var name in new[]
            {
                "zfs_csi_volume_referenced_bytes",
                "zfs_csi_volume_used_by_snapshots_bytes",
                "zfs_csi_volume_quota_bytes",
                "zfs_csi_volume_compress_ratio",
            }
        )
        {
            Assert.False(scrape.Has(name, ("volume_id", "data/k8s/pvc-1")), name);
            Assert.True(scrape.Has(name, ("volume_id", "data/k8s/pvc-2")), name);
        }
        Assert.Equal(1 << 20, scrape.Value("zfs_csi_volume_quota_bytes", ("volume_id", "data/k8s/pvc-2")));
        Assert.Equal(1.25, scrape.Value("zfs_csi_volume_compress_ratio", ("volume_id", "data/k8s/pvc-2")));
    }

    [Fact]
    public async Task A_failing_zfs_marks_the_collection_failed_and_the_next_good_one_succeeds()
    {
        var metrics = new StorageMetrics(_registry);
        var collector = Collector(metrics, bootstrap: null);
        _runner.OnZpool(StorageSamplerTests.PoolHealthArgv).TimesOut().Returns("data\tONLINE\n");
        _runner.OnZpool(StorageSamplerTests.FragmentationArgv).Returns("data\t-\n");
        _runner
            .OnZfs(StorageSamplerTests.PoolSpaceArgv)
            .Returns(ZfsScript.Row("data", "used", "1", "-") + ZfsScript.Row("data", "available", "2", "-"));
        _runner.OnZfs(StorageSamplerTests.ChildrenArgv).Returns(StorageSamplerTests.Volume("data/k8s", null, null));

        Assert.False(await collector.CollectOnceAsync(CancellationToken.None));
        Assert.Equal(0, Exposition.Parse(await _registry.ExportAsync()).Value("zfs_csi_storage_collection_success"));

        Assert.True(await collector.CollectOnceAsync(CancellationToken.None));
        var scrape = Exposition.Parse(await _registry.ExportAsync());
        Assert.Equal(1, scrape.Value("zfs_csi_storage_collection_success"));
        Assert.Equal(3, scrape.Value("zfs_csi_pool_size_bytes", ("pool", "data")));
        Assert.True(scrape.Value("zfs_csi_storage_collection_timestamp_seconds") > 1_700_000_000);
    }

    [Fact]
    public async Task A_collection_while_the_bootstrap_is_not_ready_runs_no_command()
    {
        var dir = Directory.CreateTempSubdirectory("zfs-csi-metrics-");
        try
        {
            var file = Path.Combine(dir.FullName, "bootstrap.json");
            BootstrapStatusFile.Write(
                file,
                new BootstrapStatus
                {
                    State = BootstrapState.Rebuilding,
                    Reason = "building",
                    Heartbeat = DateTimeOffset.UtcNow,
                }
            );
            var collector = Collector(
                new StorageMetrics(_registry),
                new BootstrapReadiness(file, TimeSpan.FromMinutes(2))
            );

            Assert.False(await collector.CollectOnceAsync(CancellationToken.None));

            Assert.Empty(_runner.Commands);
            Assert.Equal(
                0,
                Exposition.Parse(await _registry.ExportAsync()).Value("zfs_csi_storage_collection_success")
            );
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private StorageCollector Collector(StorageMetrics metrics, BootstrapReadiness? bootstrap)
    {
        var options = DriverOptions.Parse(["--mode", "controller", "--parent-dataset", "data/k8s"]);
        var sampler = new StorageSampler(
            new ZfsClient(_runner, options.Zfs, _mounts),
            new VolumeOptions { ParentDataset = "data/k8s" }
        );
        return new StorageCollector(sampler, metrics, options, Serilog.Core.Logger.None, bootstrap);
    }
}
