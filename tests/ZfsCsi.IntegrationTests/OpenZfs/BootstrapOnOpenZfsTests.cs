using System.Diagnostics;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.IntegrationTests.Bootstrap;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.OpenZfs;

/// <summary>
/// The bootstrap's job on a real storage host: Debian's kernel, the OpenZFS 2.3 module that
/// zfs-dkms built for it (installed, not loaded at boot), pool "data" on four virtio disks. The
/// driver runs in the VM gated by the bootstrap's status file, as beside it on the seed's alice.
/// </summary>
[Collection(StorageHostVmCollection.Name)]
[Trait("Backend", "openzfs")]
public sealed class BootstrapOnOpenZfsTests(StorageHostVmFixture vm)
{
    /// <summary>In the VM's 9p share: the driver in the VM and this test read the same file.</summary>
    private const string StatusFile = "/lab/out/bootstrap.json";

    private string HostStatusFile => Path.Combine(vm.Vm.State, "share", "out", "bootstrap.json");

    [Fact]
    public async Task After_a_clean_reboot_the_bootstrap_loads_the_installed_module_and_imports_the_pool_and_only_then_the_driver_is_ready()
    {
        await vm.RebootAsync();
        File.Delete(HostStatusFile);
        // Module not loaded, so no pool imported. (No zpool command here: on OpenZFS one would load the module.)
        Assert.Null(await vm.LoadedModuleAsync());
        await using var driver = await StartGatedDriverAsync();
        Assert.False(await StorageHostVmFixture.ProbeAsync(driver), "the driver said ready before the bootstrap ran");

        var took = Stopwatch.StartNew();
        var (exitCode, output) = await vm.BootstrapOnceAsync("--import-mount", "all", "--no-rebuild", "--status-file", StatusFile);
        took.Stop();

        Assert.True(exitCode == 0, $"bootstrap exited {exitCode}:\n{output}");
        Assert.Contains("modprobe", output, StringComparison.Ordinal);
        var module = await vm.LoadedModuleAsync();
        Assert.NotNull(module);
        Assert.StartsWith("2.3.", module, StringComparison.Ordinal);
        Assert.Equal("ONLINE", await vm.PoolHealthAsync());
        var status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
        Assert.Equal(BootstrapState.Ready, status!.State);
        Assert.Equal("ONLINE", status.PoolHealth);
        Assert.True(await GatedDriver.EventuallyAsync(async () => await StorageHostVmFixture.ProbeAsync(driver) == true, TimeSpan.FromSeconds(60)),
            $"the driver did not become ready after the bootstrap (took {took.Elapsed.TotalSeconds:F1} s):\n{driver.OutputTail()}");
        // The userland and the module are one release: the driver's own check agrees.
        var versions = await vm.Host.CheckAsync("zfs", "--version");
        Assert.Contains("zfs-kmod-2.3", versions, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pool_left_imported_by_a_power_cut_is_imported_again_after_the_reboot_with_its_data()
    {
        await vm.EnsurePoolReadyAsync();
        await vm.Host.CheckAsync("zfs", "create", "-p", "data/powercut");
        await vm.Host.CheckAsync("sh", "-c", "echo 'written before the power cut' > /data/powercut/file && sync");

        await vm.Vm.DownAsync(hard: true);
        await vm.Vm.UpAsync();
        Assert.Null(await vm.LoadedModuleAsync());
        var (exitCode, output) = await vm.BootstrapOnceAsync("--import-mount", "all", "--no-rebuild", "--status-file", StatusFile);

        Assert.True(exitCode == 0, $"bootstrap exited {exitCode} after the power cut:\n{output}");
        Assert.Equal("ONLINE", await vm.PoolHealthAsync());
        Assert.Equal("written before the power cut", (await vm.Host.CheckAsync("cat", "/data/powercut/file")).Trim());
        await vm.Host.CheckAsync("zfs", "destroy", "-r", "data/powercut");
    }

    [Fact]
    public async Task On_a_kernel_with_no_zfs_module_the_bootstrap_without_rebuild_is_not_ready_and_says_why()
    {
        await vm.RebootAsync(kernel: "6.12");
        try
        {
            var release = (await vm.Host.CheckAsync("uname", "-r")).Trim();
            Assert.StartsWith("6.12.", release, StringComparison.Ordinal);
            File.Delete(HostStatusFile);

            var (exitCode, output) = await vm.BootstrapOnceAsync("--import-mount", "all", "--no-rebuild", "--status-file", StatusFile);

            Assert.True(exitCode != 0, $"bootstrap said ready on a kernel with no zfs module:\n{output}");
            Assert.Null(await vm.LoadedModuleAsync());
            var status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
            Assert.Equal(BootstrapState.Failed, status!.State);
            Assert.Contains(release, status.Reason, StringComparison.Ordinal);
        }
        finally
        {
            await vm.RebootAsync();
        }
    }

    private Task<DriverProcess> StartGatedDriverAsync() =>
        DriverProcess.StartOnAsync(vm.Host, vm.RunDirectory, $"gated-{Guid.NewGuid():N}"[..14],
            ["--mode", "controller", "--parent-dataset", "data/k8s", "--bootstrap-status-file", StatusFile], untilReady: false);
}
