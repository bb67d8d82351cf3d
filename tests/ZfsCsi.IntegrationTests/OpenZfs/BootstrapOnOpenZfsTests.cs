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
    private const string StatusFile = StorageHostVmFixture.StatusFile;

    private string HostStatusFile => vm.HostStatusFile;

    [Fact]
    public async Task After_a_clean_reboot_the_bootstrap_loads_the_installed_module_and_imports_the_pool_and_only_then_the_driver_is_ready()
    {
        await vm.RebootAsync();
        File.Delete(HostStatusFile);
        // Module not loaded, so no pool imported. (No zpool command here: on OpenZFS one would load the module.)
        Assert.Null(await vm.LoadedModuleAsync());
        await using var driver = await vm.StartGatedDriverAsync();
        Assert.False(await StorageHostVmFixture.ProbeAsync(driver), "the driver said ready before the bootstrap ran");

        var took = Stopwatch.StartNew();
        var (exitCode, output) = await vm.BootstrapOnceAsync(
            "--import-mount",
            "all",
            "--no-rebuild",
            "--status-file",
            StatusFile
        );
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
        Assert.True(
            await GatedDriver.EventuallyAsync(
                async () => await StorageHostVmFixture.ProbeAsync(driver) == true,
                TimeSpan.FromSeconds(60)
            ),
            $"the driver did not become ready after the bootstrap (took {took.Elapsed.TotalSeconds:F1} s):\n{driver.OutputTail()}"
        );
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
        var (exitCode, output) = await vm.BootstrapOnceAsync(
            "--import-mount",
            "all",
            "--no-rebuild",
            "--status-file",
            StatusFile
        );

        Assert.True(exitCode == 0, $"bootstrap exited {exitCode} after the power cut:\n{output}");
        Assert.Equal("ONLINE", await vm.PoolHealthAsync());
        Assert.Equal("written before the power cut", (await vm.Host.CheckAsync("cat", "/data/powercut/file")).Trim());
        await vm.Host.CheckAsync("zfs", "destroy", "-r", "data/powercut");
    }

    /// <summary>
    /// The seed's kernel update, before any rebuild: booted into Debian's 6.12 kernel, for which the
    /// image has headers and no zfs module, the bootstrap that may not rebuild is not ready and names
    /// the kernel; with the headers gone, one that may rebuild starts no build and names the package.
    /// The rebuild itself is <see cref="KernelUpdateRebuildTests"/>.
    /// </summary>
    [Fact]
    public async Task On_a_new_kernel_without_a_zfs_module_the_bootstrap_is_not_ready_and_names_the_kernel_or_the_missing_headers()
    {
        await vm.RebootAsync(kernel: "6.12");
        try
        {
            var release = (await vm.Host.CheckAsync("uname", "-r")).Trim();
            Assert.StartsWith("6.12.", release, StringComparison.Ordinal);
            File.Delete(HostStatusFile);

            var (exitCode, output) = await vm.BootstrapOnceAsync(
                "--import-mount",
                "all",
                "--no-rebuild",
                "--status-file",
                StatusFile
            );
            Assert.True(exitCode != 0, $"bootstrap said ready on a kernel with no zfs module:\n{output}");
            Assert.Null(await vm.LoadedModuleAsync());
            var status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
            Assert.Equal(BootstrapState.Failed, status!.State);
            Assert.Contains(release, status.Reason, StringComparison.Ordinal);

            var build = $"/lib/modules/{release}/build";
            await vm.Host.CheckAsync("mv", build, build + ".lab-off");
            try
            {
                (exitCode, output) = await vm.RebuildAsync();
                Assert.True(exitCode != 0, $"bootstrap said ready without kernel headers:\n{output}");
                status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
                Assert.Contains($"install linux-headers-{release}", status!.Reason, StringComparison.Ordinal);
                Assert.DoesNotContain("./configure", output, StringComparison.Ordinal);
                Assert.Null(await vm.LoadedModuleAsync());
            }
            finally
            {
                await vm.Host.CheckAsync("mv", build + ".lab-off", build);
            }
        }
        finally
        {
            await vm.RebootAsync();
        }
    }

    /// <summary>
    /// A module of another OpenZFS release loaded (2.1 from bookworm contrib, which lab/vm/image
    /// built for 6.1 and keeps outside /lib/modules) under the 2.3 userland: the bootstrap is not
    /// ready, names both releases, and neither unloads the module, rebuilds over it nor imports the
    /// pool with mismatched tools.
    /// </summary>
    [Fact]
    public async Task With_a_module_of_another_OpenZFS_release_loaded_the_bootstrap_is_not_ready_names_both_and_leaves_the_pool_alone()
    {
        await vm.RebootAsync();
        try
        {
            var other = (await vm.Host.CheckAsync("cat", "/root/zfs-other-release/VERSION")).Trim();
            // Dependency order without modinfo: insmod what loads, again, until all have (2.1 has nine modules).
            await vm.Host.CheckAsync(
                "sh",
                "-c",
                "for pass in 1 2 3 4 5 6 7 8 9 10; do for m in \"$1\"/*.ko*; do insmod \"$m\" 2>/dev/null; done; done; [ -e /sys/module/zfs ]",
                "sh",
                "/root/zfs-other-release"
            );
            Assert.StartsWith(other, await vm.LoadedModuleAsync() ?? "(none)", StringComparison.Ordinal);
            File.Delete(HostStatusFile);

            await using var driver = await vm.StartGatedDriverAsync();
            var (exitCode, output) = await vm.RebuildAsync();
            Assert.True(exitCode != 0, $"bootstrap said ready with zfs {other} loaded under the 2.3 tools:\n{output}");
            var status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
            Assert.Equal(BootstrapState.Failed, status!.State);
            Assert.Contains(other, status.Reason, StringComparison.Ordinal);
            Assert.Contains("2.3.", status.Reason, StringComparison.Ordinal);
            Assert.DoesNotContain("./configure", output, StringComparison.Ordinal);
            Assert.DoesNotContain("zpool import", output, StringComparison.Ordinal);
            Assert.StartsWith(other, await vm.LoadedModuleAsync() ?? "(none)", StringComparison.Ordinal);
            Assert.False(
                await StorageHostVmFixture.ProbeAsync(driver),
                "the driver said ready with another release's module loaded"
            );
        }
        finally
        {
            await vm.RebootAsync();
        }
    }
}
