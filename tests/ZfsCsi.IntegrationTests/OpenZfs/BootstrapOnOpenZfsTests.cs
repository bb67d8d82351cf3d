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

    /// <summary>
    /// The seed's kernel update, for real: the image has Debian's 6.12 kernel and its headers and no
    /// zfs module for it. Booted into it, the bootstrap is not ready without a rebuild and says
    /// which kernel; with its headers moved away it names the missing package; with --source it
    /// runs make clean, ./configure against the 6.12 headers, make, make install, depmod and
    /// modprobe, imports the pool, and only then is the driver ready, its Probe answering (not
    /// ready) all through the build.
    /// </summary>
    /// <remarks>
    /// The build runs with /usr/lib/ccache first on PATH: lab/vm/image compiled this very build
    /// once in its chroot, so cc1 is not run again here (a cold build under TCG takes about an
    /// hour). Configure, kbuild, modpost, linking, install and the load are all real, and the
    /// module loaded is the one just built for 6.12.
    /// </remarks>
    [Fact]
    public async Task After_a_kernel_update_the_bootstrap_rebuilds_the_module_for_the_new_kernel_and_the_driver_is_ready_only_then()
    {
        await vm.RebootAsync(kernel: "6.12");
        try
        {
            var release = (await vm.Host.CheckAsync("uname", "-r")).Trim();
            Assert.StartsWith("6.12.", release, StringComparison.Ordinal);
            File.Delete(HostStatusFile);

            // Check only (the driver's sidecar): not ready, and the reason names the kernel.
            var (exitCode, output) = await vm.BootstrapOnceAsync("--import-mount", "all", "--no-rebuild", "--status-file", StatusFile);
            Assert.True(exitCode != 0, $"bootstrap said ready on a kernel with no zfs module:\n{output}");
            Assert.Null(await vm.LoadedModuleAsync());
            var status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
            Assert.Equal(BootstrapState.Failed, status!.State);
            Assert.Contains(release, status.Reason, StringComparison.Ordinal);

            // Headers missing: no build starts, and the reason says which package to install.
            var build = $"/lib/modules/{release}/build";
            await vm.Host.CheckAsync("mv", build, build + ".lab-off");
            try
            {
                (exitCode, output) = await RebuildAsync();
                Assert.True(exitCode != 0, $"bootstrap said ready without kernel headers:\n{output}");
                status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
                Assert.Contains($"install linux-headers-{release}", status!.Reason, StringComparison.Ordinal);
                Assert.DoesNotContain("./configure", output, StringComparison.Ordinal);
            }
            finally
            {
                await vm.Host.CheckAsync("mv", build + ".lab-off", build);
            }

            await using var driver = await StartGatedDriverAsync();
            var took = Stopwatch.StartNew();
            var rebuild = RebuildAsync();
            var sawRebuilding = false;
            while (!rebuild.IsCompleted)
            {
                status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
                if (status?.State == BootstrapState.Rebuilding)
                {
                    sawRebuilding = true;
                    // Liveness holds: Probe answers (not ready), and the bootstrap's own probe says alive.
                    Assert.False(await StorageHostVmFixture.ProbeAsync(driver), $"the driver's Probe was not 'not ready' during the rebuild (step {status.Step})");
                    var alive = await vm.Vm.RunAsync(VmStorageHost.GuestBootstrap, ["alive", "--status-file", StatusFile]);
                    Assert.True(alive.ExitCode == 0, $"the bootstrap's liveness probe failed during the rebuild: {alive.StandardOutput}{alive.StandardError}");
                }
                await Task.WhenAny(rebuild, Task.Delay(TimeSpan.FromSeconds(10)));
            }
            (exitCode, output) = await rebuild;
            took.Stop();
            Console.WriteLine($"kernel-update rebuild for {release} (ccache warmed at image build): {took.Elapsed.TotalSeconds:F0} s");

            Assert.True(exitCode == 0, $"the rebuild for {release} failed after {took.Elapsed.TotalSeconds:F0} s:\n{output}");
            Assert.True(sawRebuilding, "the status file never said rebuilding");
            foreach (var step in new[] { "make clean", "./configure --with-linux=", "make -j", "make install", $"depmod -a {release}", "modprobe" })
            {
                Assert.Contains(step, output, StringComparison.Ordinal);
            }
            var module = (await vm.Host.CheckAsync("modinfo", "-k", release, "-F", "filename", "zfs")).Trim();
            Assert.StartsWith($"/lib/modules/{release}/extra/", module, StringComparison.Ordinal);
            Assert.StartsWith("2.3.", await vm.LoadedModuleAsync(), StringComparison.Ordinal);
            Assert.Equal("ONLINE", await vm.PoolHealthAsync());
            Assert.True(await GatedDriver.EventuallyAsync(async () => await StorageHostVmFixture.ProbeAsync(driver) == true, TimeSpan.FromSeconds(60)),
                $"the driver did not become ready after the rebuild:\n{driver.OutputTail()}");
            Console.WriteLine(await vm.Host.CheckAsync("ccache", "--show-stats"));
        }
        finally
        {
            await vm.RebootAsync();
        }
    }

    /// <summary>The host's rebuild: from the OpenZFS tree in the image, kernel module only (the userland is Debian's zfsutils-linux of the same release, as with dkms).</summary>
    private Task<(int ExitCode, string Output)> RebuildAsync() =>
        vm.BootstrapOnceAsync(["PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin"],
            "--source", "/root/src/zfs-2.3.2", "--configure-arg", "--with-config=kernel", "--attempts", "1",
            "--import-mount", "all", "--status-file", StatusFile);

    private Task<DriverProcess> StartGatedDriverAsync() =>
        DriverProcess.StartOnAsync(vm.Host, vm.RunDirectory, $"gated-{Guid.NewGuid():N}"[..14],
            ["--mode", "controller", "--parent-dataset", "data/k8s", "--bootstrap-status-file", StatusFile], untilReady: false);
}
