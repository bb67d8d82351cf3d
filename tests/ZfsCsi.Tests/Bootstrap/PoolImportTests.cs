using Serilog;
using ZfsCsi.Bootstrap;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Options;

namespace ZfsCsi.Tests.Bootstrap;

/// <summary>
/// What an import by the bootstrap mounts, on fake OpenZFS tools (zfs-fuse has no zpool import -N,
/// so this cannot run on the real pool here; the plain import is covered on zfs-fuse by BootstrapPoolTests).
/// The seed's pool: data at /data, the driver's data/k8s below it, and alice's /home/novix and /var/lib/mysql.
/// </summary>
public sealed class PoolImportTests : IDisposable
{
    private static readonly string[] SeedDatasets =
    [
        "data\t/data\ton",
        "data/k8s\t/data/k8s\ton",
        "data/k8s/pvc-1\t/data/k8s/pvc-1\ton",
        "data/novix\t/home/novix\ton",
        "data/mysql\t/var/lib/mysql\ton",
        "data/k8s/off\t/data/k8s/off\tnoauto",
    ];

    private readonly FakeKernel _k = new();
    private readonly ILogger _log = new LoggerConfiguration().CreateLogger();

    public PoolImportTests()
    {
        _k.AllGood();
        _k.ExportedPool("data", SeedDatasets);
    }

    public void Dispose() => _k.Dispose();

    private async Task<BootstrapStatus> RunAsync(params string[] extra)
    {
        using var b = new Bootstrapper(_k.Options(["--pool", "data", .. extra]), new CliWrapCommandRunner(_log), _log);
        return await b.CheckAsync(CancellationToken.None);
    }

    private IEnumerable<string> Pool =>
        _k.Ran.Where(l =>
            l.StartsWith("zpool import", StringComparison.Ordinal)
            || l.StartsWith("zfs mount", StringComparison.Ordinal)
            || l.StartsWith("zfs list", StringComparison.Ordinal)
        );

    [Fact]
    public async Task With_OpenZFS_the_import_mounts_nothing_by_default_and_the_verdict_says_the_host_mounts()
    {
        var status = await RunAsync();

        Assert.True(status.State == BootstrapState.Ready, status.Reason);
        Assert.Equal(["zpool import -N data"], Pool);
        Assert.DoesNotContain(SeedDatasets, d => _k.IsMounted(d.Split('\t')[0]));
        Assert.Contains("-N", status.Reason, StringComparison.Ordinal);
        Assert.Contains("zfs mount -a", status.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_mount_DIR_mounts_only_the_datasets_under_DIR_parents_first()
    {
        var status = await RunAsync("--import-mount=/data");

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal(
            [
                "zpool import -N data",
                "zfs list -H -o name,mountpoint,canmount,mounted -r -t filesystem data",
                "zfs mount data",
                "zfs mount data/k8s",
                "zfs mount data/k8s/pvc-1",
            ],
            Pool
        );
        Assert.False(_k.IsMounted("data/novix"));
        Assert.False(_k.IsMounted("data/mysql"));
        Assert.False(_k.IsMounted("data/k8s/off"));
        Assert.Contains("outside /data", status.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mount_that_fails_after_the_import_is_not_ready_and_retried_at_the_next_check()
    {
        _k.Fail("zfs-mount-data_k8s");
        using var b = new Bootstrapper(
            _k.Options("--pool", "data", "--import-mount", "/data"),
            new CliWrapCommandRunner(_log),
            _log
        );

        var first = await b.CheckAsync(CancellationToken.None);
        Assert.Equal(BootstrapState.Failed, first.State);
        Assert.Contains("could not mount data/k8s", first.Reason, StringComparison.Ordinal);

        File.Delete(Path.Combine(_k.State, "fail-zfs-mount-data_k8s"));
        var second = await b.CheckAsync(CancellationToken.None);
        Assert.Equal(BootstrapState.Ready, second.State);
        Assert.True(_k.IsMounted("data/k8s/pvc-1"));
        Assert.Single(_k.Ran, l => l.StartsWith("zpool import", StringComparison.Ordinal));

        // Once mounted, later checks never mount again (the driver unmounts volumes it destroys).
        await b.CheckAsync(CancellationToken.None);
        Assert.Single(_k.Ran, l => l == "zfs mount data/k8s/pvc-1");
    }

    [Fact]
    public async Task A_bootstrap_restarted_after_the_import_still_mounts_what_is_unmounted_under_DIR()
    {
        // The previous sidecar imported with -N and was killed before mounting.
        await RunAsync("--import-mount=none");
        var before = Pool.Count();

        var status = await RunAsync("--import-mount=/data");

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal(
            [
                "zfs list -H -o name,mountpoint,canmount,mounted -r -t filesystem data",
                "zfs mount data",
                "zfs mount data/k8s",
                "zfs mount data/k8s/pvc-1",
            ],
            Pool.Skip(before)
        );
    }

    [Fact]
    public async Task Import_mount_all_is_a_plain_import_that_mounts_everything_in_this_namespace()
    {
        var status = await RunAsync("--import-mount", "all");

        Assert.True(status.State == BootstrapState.Ready, status.Reason);
        Assert.Equal(["zpool import data"], Pool);
        Assert.True(_k.IsMounted("data/novix"));
        Assert.DoesNotContain("-N", status.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_import_never_imports_and_says_the_host_does()
    {
        var status = await RunAsync("--no-import");

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains("never imports (--no-import)", status.Reason, StringComparison.Ordinal);
        Assert.Empty(Pool);
    }

    [Fact]
    public async Task A_slow_import_records_its_start_and_limit_so_alive_can_tell_it_is_stuck_though_the_heartbeat_is_fresh()
    {
        _k.Slow("zpool-import", 1.5);
        using var b = new Bootstrapper(
            _k.Options("--pool", "data", "--heartbeat", "0.2", "--import-timeout", "30", "--mount-lock-timeout", "10"),
            new CliWrapCommandRunner(_log),
            _log
        );

        var check = b.CheckAsync(CancellationToken.None);
        BootstrapStatus? during = null;
        while (!check.IsCompleted)
        {
            await Task.Delay(100);
            if (
                await BootstrapStatusFile.ReadAsync(_k.StatusFile, CancellationToken.None) is
                { RunningStep: "zpool import" } s
            )
            {
                during = s;
            }
        }
        Assert.Equal(BootstrapState.Ready, (await check).State);

        Assert.NotNull(during);
        Assert.Equal(BootstrapState.Importing, during.State);
        Assert.Equal(40, during.StepLimitSeconds);
        // The same step later, its heartbeat still fresh (the timer ticks while the command hangs):
        // alive within its limit plus the margin, stuck past it.
        var file = Path.Combine(_k.Root, "later.json");
        var started = during.StepStarted!.Value;
        BootstrapStatusFile.Write(file, during with { Heartbeat = started.AddSeconds(99) });
        Assert.True(
            (
                await new BootstrapReadiness(
                    file,
                    TimeSpan.FromSeconds(60),
                    new FixedClock(started.AddSeconds(99))
                ).CheckLivenessAsync(CancellationToken.None)
            ).Ready
        );
        BootstrapStatusFile.Write(file, during with { Heartbeat = started.AddSeconds(100) });
        var stuck = await new BootstrapReadiness(
            file,
            TimeSpan.FromSeconds(60),
            new FixedClock(started.AddSeconds(101))
        ).CheckLivenessAsync(CancellationToken.None);
        Assert.False(stuck.Ready);
        Assert.Contains(
            "step 'zpool import' has run 101 s, past its limit of 40 s plus 60 s",
            stuck.Reason,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task A_pool_the_import_does_not_find_names_the_pool_and_where_it_looked()
    {
        var status = await RunAsync(
            "--pool",
            "tank",
            "--import-dir",
            "/dev/disk/by-id",
            "--import-dir",
            "/var/tmp/disks"
        );

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Equal(
            "zpool import: pool 'tank' was not found in /dev/disk/by-id, /var/tmp/disks: check --pool and --import-dir "
                + "('zpool import -d /dev/disk/by-id -d /var/tmp/disks' lists the pools that can be imported there)",
            status.Reason
        );
    }

    [Theory]
    [InlineData(
        "cannot import 'data': pool may be in use from other system, it was last accessed by vm (hostid: 0x7f0100) on Wed Dec  2 16:51:18 2026\nuse '-f' to import anyway\n"
    )]
    [InlineData(
        "cannot import 'data': pool was previously in use from another system.\nLast accessed by debian (hostid=5eed0001) at Tue Dec  1 10:00:00 2026\nThe pool can be imported, use 'zpool import -f' to import the pool.\n"
    )]
    public async Task A_pool_last_used_by_another_host_is_never_forced_and_the_reason_says_to_import_it_by_hand(
        string stderr
    )
    {
        _k.ImportFails("data", stderr);

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Equal(
            $"zpool import: {Path.Combine(_k.Bin, "zpool")} import -N data exited 1: {stderr.Trim()} "
                + "(the bootstrap never forces an import: make sure no other host uses the pool, then import it by hand)",
            status.Reason
        );
        Assert.DoesNotContain(_k.Ran, l =>
            l.StartsWith("zpool import", StringComparison.Ordinal) && l.Contains("-f", StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task Any_other_import_failure_is_reported_with_zpool_s_own_words_and_no_advice_about_forcing()
    {
        _k.ImportFails("data", "cannot import 'data': one or more devices is currently unavailable\n");

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Equal(
            $"zpool import: {Path.Combine(_k.Bin, "zpool")} import -N data exited 1: cannot import 'data': one or more devices is currently unavailable",
            status.Reason
        );
    }

    [Theory]
    [InlineData("--import-mount", "none")]
    [InlineData("--import-mount", "/data")]
    public void Zfs_fuse_cannot_import_without_mounting(string flag, string value)
    {
        var e = Assert.Throws<OptionsException>(() => _k.Options("--module", "none", "--pool", "data", flag, value));
        Assert.Contains("zfs-fuse", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_import_mounts_nothing_with_the_kernel_module_and_everything_with_zfs_fuse()
    {
        Assert.Equal(ImportMount.None, _k.Options("--pool", "data").ImportMount);
        Assert.Equal(ImportMount.All, _k.Options("--module", "none", "--pool", "data").ImportMount);
        Assert.Throws<OptionsException>(() => _k.Options("--pool", "data", "--import-mount", "data"));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
