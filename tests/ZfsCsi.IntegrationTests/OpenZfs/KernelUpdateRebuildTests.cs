using System.Diagnostics;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.IntegrationTests.Bootstrap;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.OpenZfs;

/// <summary>
/// The bootstrap's rebuild of the zfs module after a kernel update, in the storage host VM. Its
/// own trait: under TCG the build takes far longer than the rest of the OpenZFS suite together
/// (configure alone runs ~300 kernel test modules through kbuild), so it runs by
/// <c>lab/test --backend openzfs-rebuild</c>, not in every CI run. See README "The kernel update".
/// </summary>
[Collection(RebuildVmCollection.Name)]
[Trait("Backend", "openzfs-rebuild")]
public sealed class KernelUpdateRebuildTests(RebuildVmFixture vm)
{
    private const string StatusFile = StorageHostVmFixture.StatusFile;

    private string HostStatusFile => vm.HostStatusFile;

    /// <summary>
    /// The seed's kernel update, for real: the image has Debian's 6.12 kernel and its headers and no
    /// zfs module for it. Booted into it, the bootstrap with --source runs make clean, ./configure
    /// against the 6.12 headers, make, make install, depmod and modprobe, imports the pool, and only
    /// then is the driver ready, its Probe answering (not ready) all through the build.
    /// </summary>
    /// <remarks>
    /// The build runs with /usr/lib/ccache first on PATH: lab/vm/image compiled this very build
    /// once in its chroot, so the module's and the configure tests' compiles come from that cache.
    /// Everything else (configure, kbuild's compiler probes, objtool, modpost, the link, the
    /// install, the load) runs here for real, and under TCG that alone takes most of the time.
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

            await using var driver = await vm.StartGatedDriverAsync();
            var took = Stopwatch.StartNew();
            var rebuild = vm.RebuildAsync();
            var sawRebuilding = false;
            // What the two probes answered during the rebuild. Every answer must be "not ready" and
            // "alive"; one the emulated guest did not give in time is counted, not failed: lab/test
            // runs this VM niced beside the other OpenZFS stages on two cores, and under TCG with
            // the build on both vCPUs an ssh command has taken over 120 s (CI, 2026-12-03). That is
            // the lab's CPU, not the bootstrap; at least one of each answer is still required.
            int probeAnswers = 0,
                probeSilent = 0,
                aliveAnswers = 0,
                aliveSilent = 0;
            // When each step was first seen (polled every 10 s): the figures the README quotes.
            var steps = new List<(string Step, TimeSpan At)>();
            while (!rebuild.IsCompleted)
            {
                var status = await BootstrapStatusFile.ReadAsync(HostStatusFile, CancellationToken.None);
                if (status is not null && status.Step.Length > 0 && (steps.Count == 0 || steps[^1].Step != status.Step))
                {
                    steps.Add((status.Step, took.Elapsed));
                }
                if (status?.State == BootstrapState.Rebuilding)
                {
                    sawRebuilding = true;
                    // Liveness holds: Probe answers (not ready), and the bootstrap's own probe says alive.
                    switch (await StorageHostVmFixture.ProbeAsync(driver))
                    {
                        case true:
                            Assert.Fail($"the driver's Probe answered ready during the rebuild (step {status.Step})");
                            break;
                        case false:
                            probeAnswers++;
                            break;
                        case null:
                            probeSilent++;
                            break;
                    }
                    var alive = await AliveAsync();
                    if (alive is null)
                    {
                        aliveSilent++;
                    }
                    else
                    {
                        Assert.True(
                            alive.ExitCode == 0,
                            $"the bootstrap's liveness probe failed during the rebuild (step {status.Step}): {alive.StandardOutput}{alive.StandardError}"
                        );
                        aliveAnswers++;
                    }
                }
                await Task.WhenAny(rebuild, Task.Delay(TimeSpan.FromSeconds(10)));
            }
            var (exitCode, output) = await rebuild;
            took.Stop();
            Console.WriteLine(
                $"kernel-update rebuild for {release} (ccache and configure's cache warmed at image build): {took.Elapsed.TotalSeconds:F0} s"
            );
            for (var i = 0; i < steps.Count; i++)
            {
                var until = i + 1 < steps.Count ? steps[i + 1].At : took.Elapsed;
                Console.WriteLine(
                    $"  step {steps[i].Step.Split(' ')[0]} {(steps[i].Step.StartsWith("make", StringComparison.Ordinal) ? steps[i].Step : "")}: ~{(until - steps[i].At).TotalSeconds:F0} s"
                );
            }

            Assert.True(
                exitCode == 0,
                $"the rebuild for {release} failed after {took.Elapsed.TotalSeconds:F0} s:\n{output}"
            );
            Assert.True(sawRebuilding, "the status file never said rebuilding");
            Console.WriteLine(
                $"  during the rebuild: Probe answered 'not ready' {probeAnswers}×, no answer in 30 s {probeSilent}×; "
                    + $"the bootstrap's alive answered 0 {aliveAnswers}×, no answer in {AliveWait.TotalSeconds:F0} s {aliveSilent}×"
            );
            Assert.True(
                probeAnswers > 0,
                $"the driver's Probe never answered during the rebuild ({probeSilent} tries)"
            );
            Assert.True(
                aliveAnswers > 0,
                $"the bootstrap's alive never answered during the rebuild ({aliveSilent} tries)"
            );
            foreach (
                var step in new[]
                {
                    "make clean",
                    "./configure --with-linux=",
                    "make -j",
                    "make install",
                    $"depmod -a {release}",
                    "modprobe",
                }
            )
            {
                Assert.Contains(step, output, StringComparison.Ordinal);
            }
            var module = (await vm.Host.CheckAsync("modinfo", "-k", release, "-F", "filename", "zfs")).Trim();
            Assert.StartsWith($"/lib/modules/{release}/extra/", module, StringComparison.Ordinal);
            Assert.StartsWith("2.3.", await vm.LoadedModuleAsync(), StringComparison.Ordinal);
            Assert.Equal("ONLINE", await vm.PoolHealthAsync());
            Assert.True(
                await GatedDriver.EventuallyAsync(
                    async () => await StorageHostVmFixture.ProbeAsync(driver) == true,
                    TimeSpan.FromSeconds(60)
                ),
                $"the driver did not become ready after the rebuild:\n{driver.OutputTail()}"
            );
            Console.WriteLine(await vm.Host.CheckAsync("ccache", "--show-stats"));
        }
        finally
        {
            await vm.RebootAsync();
        }
    }

    private static readonly TimeSpan AliveWait = TimeSpan.FromSeconds(120);

    /// <summary>The bootstrap's liveness probe in the VM, as kubelet runs it; null when the VM did not answer within <see cref="AliveWait"/>.</summary>
    private async Task<CliWrap.Buffered.BufferedCommandResult?> AliveAsync()
    {
        try
        {
            return await vm.Vm.RunAsync(
                VmStorageHost.GuestBootstrap,
                ["alive", "--status-file", StatusFile],
                AliveWait
            );
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
