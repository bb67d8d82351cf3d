using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// NodeGetVolumeStats and NodeGetVolumeHealth on the model kernel. Stats (CSI spec, its error
/// table): a path that is not a bind of this volume on this node is NOT_FOUND; a bind that exists
/// but cannot be read now (dead or unmounted /data, a stale or fenced bind) is UNAVAILABLE within
/// the deadline. Health: INACCESSIBLE with a reason saying what is wrong, healthy when nothing is.
/// </summary>
public sealed class NodeVolumesStatsAndHealthTests : IDisposable
{
    private static readonly string Target = NodeWorld.Target("u1");
    private NodeWorld _world = NodeWorld.OverSshfs();

    public void Dispose() => _world.Dispose();

    private FakeKernel Kernel => _world.Kernel;

    [Fact]
    public async Task Stats_of_a_published_volume_are_its_own_numbers_as_the_pod_sees_them()
    {
        var numbers = _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);

        var stats = await _world.StatsAsync("pvc-1", Target);

        Assert.Equal((long)(numbers.Blocks * numbers.Frsize), stats.TotalBytes);
        Assert.Equal((long)(numbers.Bavail * numbers.Frsize), stats.AvailableBytes);
        Assert.Equal((long)((numbers.Blocks - numbers.Bfree) * numbers.Frsize), stats.UsedBytes);
        Assert.Equal((long)numbers.Files, stats.TotalInodes);
        Assert.Equal((long)numbers.Ffree, stats.FreeInodes);
    }

    [Fact]
    public async Task On_the_storage_host_stats_of_a_published_volume_are_its_datasets_numbers()
    {
        _world.Dispose();
        _world = NodeWorld.OnStorageHost();
        var numbers = _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);

        var stats = await _world.StatsAsync("pvc-1", Target);

        Assert.Equal((long)(numbers.Blocks * numbers.Frsize), stats.TotalBytes);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stats_of_a_missing_volume_path_or_one_where_nothing_is_mounted_are_not_found(bool directoryExists)
    {
        _world.AddVolume("pvc-1");
        if (directoryExists)
        {
            Kernel.MakeDirectories(Target);
        }

        var e = await Assert.ThrowsAsync<NotFoundException>(() => _world.StatsAsync("pvc-1", Target));

        Assert.Equal($"volume data/k8s/pvc-1 is not published at {Target}", e.Message);
    }

    [Theory]
    [InlineData("some/path")]
    [InlineData("/etc")]
    [InlineData("/var/lib/kubelet/pods/../../../etc")]
    public async Task Stats_of_a_relative_path_or_one_outside_the_kubelet_directory_are_not_found(string path)
    {
        _world.AddVolume("pvc-1");

        await Assert.ThrowsAsync<NotFoundException>(() => _world.StatsAsync("pvc-1", path));
    }

    [Fact]
    public async Task Stats_of_a_path_that_holds_another_volume_are_not_found()
    {
        _world.AddVolume("pvc-1");
        _world.AddVolume("pvc-2");
        await _world.PublishAsync("pvc-2", Target);

        await Assert.ThrowsAsync<NotFoundException>(() => _world.StatsAsync("pvc-1", Target));
    }

    [Fact]
    public async Task Stats_of_a_fenced_publish_are_unavailable_and_another_volumes_fence_is_not_found()
    {
        _world.AddVolume("pvc-1");
        _world.AddVolume("pvc-2");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        await _world.GuardOnceAsync();

        var e = await Assert.ThrowsAsync<VolumeFencedException>(() => _world.StatsAsync("pvc-1", Target));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Contains(
            "was cut because its dataset was not mounted on the pool's host",
            e.Message,
            StringComparison.Ordinal
        );
        await Assert.ThrowsAsync<NotFoundException>(() => _world.StatsAsync("pvc-2", Target));
    }

    [Fact]
    public async Task Stats_while_the_data_root_is_not_mounted_are_unavailable_for_a_bind_of_the_volume_and_not_found_for_another()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Kill(_world.Pool);
        Kernel.Detach(NodeWorld.Data);

        var e = await Assert.ThrowsAsync<DeadMountException>(() => _world.StatsAsync("pvc-1", Target));

        Assert.Contains("the node's data root /data is not mounted", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotFoundException>(() => _world.StatsAsync("pvc-2", Target));
    }

    [Fact]
    public async Task Stats_of_a_stale_bind_of_an_sshfs_mount_that_died_are_unavailable()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Kill(_world.Pool);
        Kernel.Detach(NodeWorld.Data);
        _world.MountPoolOverSshfs();
        _world.AddVolume("pvc-1");

        var e = await Assert.ThrowsAsync<DeadMountException>(() => _world.StatsAsync("pvc-1", Target));

        Assert.Contains(
            "is a stale bind of volume data/k8s/pvc-1 from an SSHFS mount that is gone",
            e.Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task Stats_of_a_bind_whose_link_is_down_are_unavailable_within_the_deadline()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.ShortDeadline();
        using var down = Kernel.Hang(_world.Pool);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<DeadMountException>(() => _world.StatsAsync("pvc-1", Target));

        Assert.Contains("did not answer within", e.Message, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, _world.Node.CallTimeout * 0.9, TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_published_volume_is_healthy(bool overSshfs)
    {
        if (!overSshfs)
        {
            _world.Dispose();
            _world = NodeWorld.OnStorageHost();
        }
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);

        var health = await _world.HealthAsync("pvc-1", Target);

        Assert.Empty(health.Issues);
        Assert.Empty((await _world.HealthAsync("pvc-1", null)).Issues);
    }

    [Fact]
    public async Task A_dead_data_root_is_NodeDataUnavailable()
    {
        _world.AddVolume("pvc-1");
        Kernel.Kill(_world.Pool);

        Assert.Equal("NodeDataUnavailable", Reason(await _world.HealthAsync("pvc-1", null)));
    }

    [Fact]
    public async Task A_volume_whose_directory_is_gone_is_DatasetGone()
    {
        Assert.Equal("DatasetGone", Reason(await _world.HealthAsync("pvc-1", Target)));
    }

    [Fact]
    public async Task A_volume_whose_dataset_is_not_mounted_on_the_storage_host_is_DatasetNotMounted()
    {
        _world.AddVolume("pvc-1");
        _world.UnmountOnStorageHost("pvc-1");

        Assert.Equal("DatasetNotMounted", Reason(await _world.HealthAsync("pvc-1", null)));
    }

    [Fact]
    public async Task A_symlink_as_the_volume_directory_is_NotADirectory()
    {
        _world.AddVolume("pvc-1");
        _world.Pool.ReplaceWithSymlink("/k8s/pvc-1", "/");

        Assert.Equal("NotADirectory", Reason(await _world.HealthAsync("pvc-1", null)));
    }

    [Fact]
    public async Task A_fenced_publish_path_is_PublishPathFenced_once_the_dataset_is_back()
    {
        var numbers = _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        _world.UnmountOnStorageHost("pvc-1");
        await _world.GuardOnceAsync();
        _world.Pool.AnswerStatvfs("/k8s/pvc-1", numbers);

        Assert.Equal("PublishPathFenced", Reason(await _world.HealthAsync("pvc-1", Target)));
    }

    [Theory]
    [InlineData("/var/lib/kubelet/pods/u9/volumes/kubernetes.io~csi/pv/mount")]
    [InlineData("relative/mount")]
    public async Task A_publish_path_where_the_volume_is_not_published_is_NotPublished(string path)
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);

        Assert.Equal("NotPublished", Reason(await _world.HealthAsync("pvc-1", path)));
    }

    [Fact]
    public async Task A_stale_publish_path_is_PublishPathUnavailable()
    {
        _world.AddVolume("pvc-1");
        await _world.PublishAsync("pvc-1", Target);
        Kernel.Kill(_world.Pool);
        Kernel.Detach(NodeWorld.Data);
        _world.MountPoolOverSshfs();
        _world.AddVolume("pvc-1");

        Assert.Equal("PublishPathUnavailable", Reason(await _world.HealthAsync("pvc-1", Target)));
    }

    private static string Reason(VolumeHealth health)
    {
        var issue = Assert.Single(health.Issues);
        Assert.Equal(HealthStatus.Inaccessible, issue.Status);
        return issue.Reason;
    }
}
