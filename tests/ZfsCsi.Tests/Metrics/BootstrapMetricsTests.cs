using ZfsCsi.Bootstrap.Progress;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Driver.Metrics;

namespace ZfsCsi.Tests.Metrics;

public sealed class BootstrapMetricsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("zfs-csi-bootstrap-metrics-");
    private readonly MetricsRegistry _registry = new();

    private string File => Path.Combine(_dir.FullName, "bootstrap.json");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task A_scrape_exports_the_state_step_heartbeat_and_last_module_load_and_rebuild_of_the_status_file()
    {
        var heartbeat = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        BootstrapStatusFile.Write(
            File,
            new BootstrapStatus
            {
                State = BootstrapState.Rebuilding,
                Reason = "rebuilding the zfs module",
                Step = "make -j2",
                RunningStep = "make -j2",
                StepStarted = heartbeat.AddSeconds(-60),
                Heartbeat = heartbeat,
                ModuleLoaded = heartbeat.AddSeconds(-3600),
                ModuleLoadSeconds = 1.5,
                ModuleRebuilt = heartbeat.AddSeconds(-7200),
                ModuleRebuildSeconds = 1596,
            }
        );
        _ = new BootstrapMetrics(_registry, new BootstrapReadiness(File, TimeSpan.FromMinutes(2)));

        // No refresh by hand: the registry's before-collect callback reads the file for the scrape.
        var scrape = Exposition.Parse(await _registry.ExportAsync());

        Assert.Equal(1, scrape.Value("zfs_csi_bootstrap_status_present"));
        Assert.Equal(1, scrape.Value("zfs_csi_bootstrap_state", ("state", "rebuilding")));
        Assert.Equal(0, scrape.Value("zfs_csi_bootstrap_state", ("state", "ready")));
        Assert.Equal(1, scrape.Value("zfs_csi_bootstrap_step_info", ("step", "make")));
        Assert.Equal(1, scrape.Value("zfs_csi_bootstrap_step_running"));
        Assert.Equal(1_800_000_000 - 60, scrape.Value("zfs_csi_bootstrap_step_started_timestamp_seconds"));
        Assert.Equal(1_800_000_000, scrape.Value("zfs_csi_bootstrap_heartbeat_timestamp_seconds"));
        Assert.Equal(1_800_000_000 - 3600, scrape.Value("zfs_csi_bootstrap_module_load_timestamp_seconds"));
        Assert.Equal(1.5, scrape.Value("zfs_csi_bootstrap_module_load_duration_seconds"));
        Assert.Equal(1_800_000_000 - 7200, scrape.Value("zfs_csi_bootstrap_module_rebuild_timestamp_seconds"));
        Assert.Equal(1596, scrape.Value("zfs_csi_bootstrap_module_rebuild_duration_seconds"));
    }

    [Fact]
    public async Task A_new_step_replaces_the_old_step_series_and_a_missing_file_is_status_present_0()
    {
        var metrics = new BootstrapMetrics(_registry, new BootstrapReadiness(File, TimeSpan.FromMinutes(2)));
        BootstrapStatusFile.Write(
            File,
            new BootstrapStatus
            {
                State = BootstrapState.Importing,
                Reason = "importing",
                Step = "zpool import",
                Heartbeat = DateTimeOffset.UtcNow,
            }
        );
        await metrics.RefreshAsync(CancellationToken.None);
        BootstrapStatusFile.Write(
            File,
            new BootstrapStatus
            {
                State = BootstrapState.Checking,
                Reason = "checking",
                Step = "zpool status",
                Heartbeat = DateTimeOffset.UtcNow,
            }
        );

        var second = Exposition.Parse(await _registry.ExportAsync());
        System.IO.File.Delete(File);
        var missing = Exposition.Parse(await _registry.ExportAsync());

        Assert.Equal(1, second.Value("zfs_csi_bootstrap_step_info", ("step", "zpool status")));
        Assert.False(second.Has("zfs_csi_bootstrap_step_info", ("step", "zpool import")));
        Assert.Equal(0, missing.Value("zfs_csi_bootstrap_status_present"));
    }

    [Theory]
    [InlineData("make -j2", "make")]
    [InlineData("make install", "make install")]
    [InlineData("./configure --with-linux=/usr/src/linux-headers-6.12.0 --with-config=kernel", "./configure")]
    [InlineData("depmod -a 6.12.0-0.deb12.1-amd64", "depmod")]
    [InlineData("zpool import", "zpool import")]
    [InlineData("modprobe zfs", "modprobe zfs")]
    [InlineData("", "")]
    public void A_step_label_names_the_command_never_its_arguments(string step, string label)
    {
        Assert.Equal(label, BootstrapMetrics.StepLabel(step));
    }

    [Fact]
    public async Task The_bootstrap_keeps_its_last_module_load_and_rebuild_in_the_status_file_the_driver_reads()
    {
        using var progress = new BootstrapProgress(
            Serilog.Core.Logger.None,
            File,
            watching: true,
            TimeSpan.FromHours(1)
        );

        progress.ModuleRebuilt(TimeSpan.FromSeconds(373));
        progress.ModuleLoaded(TimeSpan.FromMilliseconds(800));
        progress.Finish(ready: true, "pool data is ONLINE");

        var status = await BootstrapStatusFile.ReadAsync(File, CancellationToken.None);
        Assert.NotNull(status);
        Assert.Equal(373, status.ModuleRebuildSeconds);
        Assert.Equal(0.8, status.ModuleLoadSeconds);
        Assert.NotNull(status.ModuleRebuilt);
        Assert.NotNull(status.ModuleLoaded);
    }
}
