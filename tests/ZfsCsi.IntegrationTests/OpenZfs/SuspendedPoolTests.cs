using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;
using ZfsCsi.IntegrationTests.Bootstrap;
using ZfsCsi.IntegrationTests.ZfsCommands;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.OpenZfs;

/// <summary>
/// What OpenZFS prints once a pool has lost every copy of its data: a pool of one disk, plugged into
/// the VM's spare PCIe port for this test and pulled out again (qemu's monitor), as a failed
/// controller or cable would. The pool "data" is not touched.
/// </summary>
[Collection(StorageHostVmCollection.Name)]
[Trait("Backend", "openzfs")]
public sealed class SuspendedPoolTests(StorageHostVmFixture vm)
{
    private const string Pool = "zcmdsusp";
    private const string Serial = "zcsi-scratch";

    [Fact]
    [ErrorTextTest("pool i/o is currently suspended")]
    public async Task A_pool_whose_only_disk_is_pulled_suspends_and_a_create_there_is_classified_as_pool_unavailable()
    {
        var image = Path.Combine(vm.Vm.State, "scratch.raw");
        await using (var f = File.Create(image))
        {
            f.SetLength(256L << 20);
        }
        var faulted = false;
        try
        {
            await vm.Vm.MonitorAsync($"drive_add 0 file={image},if=none,id=d5,format=raw,cache=writeback");
            await vm.Vm.MonitorAsync($"device_add virtio-blk-pci,bus=rp5,drive=d5,id=vd5,serial={Serial}");
            var device = $"/dev/disk/by-id/virtio-{Serial}";
            Assert.True(await GatedDriver.EventuallyAsync(async () => (await vm.Vm.RunAsync("test", ["-e", device])).ExitCode == 0, TimeSpan.FromSeconds(60)),
                $"the plugged-in disk never appeared as {device}");
            // failmode=continue: once suspended, new writes fail with EIO instead of waiting (wait, the
            // default, would block this test's commands until the disk comes back).
            await vm.Host.CheckAsync("zpool", "create", "-f", "-o", "failmode=continue", "-m", $"/{Pool}", Pool, device);
            await vm.Host.CheckAsync("zfs", "create", $"{Pool}/before");

            faulted = true;
            await vm.Vm.MonitorAsync("device_del vd5");
            // The next transaction group's writes fail on every copy: the pool suspends.
            var suspended = await GatedDriver.EventuallyAsync(async () =>
            {
                await vm.Vm.RunAsync("timeout", ["20", "sh", "-c", $"echo x > /{Pool}/before/f; zpool sync {Pool}"]);
                var health = await vm.Vm.RunAsync("zpool", ["list", "-H", "-o", "health", Pool]);
                return health.StandardOutput.Trim() is "SUSPENDED" or "UNAVAIL";
            }, TimeSpan.FromSeconds(120));
            Assert.True(suspended, $"the pool did not suspend after its disk was pulled: {(await vm.Vm.RunAsync("zpool", ["status", Pool])).StandardOutput}");

            var argv = ZfsArgs.Create(DatasetName.Parse($"{Pool}/after"), []);
            var result = await vm.Vm.RunAsync("timeout", ["60", "zfs", .. argv]);
            var command = new CommandLine("zfs", argv);
            Assert.True(result.ExitCode is not 0 and not 124, $"zfs create on the suspended pool exited {result.ExitCode}: {result.StandardError.Trim()}");
            Assert.Contains("pool i/o is currently suspended", result.StandardError, StringComparison.OrdinalIgnoreCase);
            Assert.IsType<ZfsPoolUnavailableException>(ZfsErrors.Classify(command, new CommandResult(result.ExitCode, result.StandardOutput, result.StandardError, result.RunTime)));
        }
        finally
        {
            await CleanUpAsync(faulted);
            File.Delete(image);
        }
    }

    /// <summary>The disk back, the pool resumed (zpool clear) and destroyed; when any of that fails, a power cut and reboot, after which nothing imports it.</summary>
    private async Task CleanUpAsync(bool faulted)
    {
        try
        {
            if (faulted)
            {
                await vm.Vm.MonitorAsync($"drive_add 0 file={Path.Combine(vm.Vm.State, "scratch.raw")},if=none,id=d5b,format=raw,cache=writeback");
                await vm.Vm.MonitorAsync($"device_add virtio-blk-pci,bus=rp5,drive=d5b,id=vd5,serial={Serial}");
                await Task.Delay(TimeSpan.FromSeconds(5));
                await vm.Vm.RunAsync("timeout", ["60", "zpool", "clear", Pool]);
            }
            var destroy = await vm.Vm.RunAsync("timeout", ["60", "zpool", "destroy", "-f", Pool]);
            var listed = await vm.Vm.RunAsync("zpool", ["list", "-H", "-o", "name", Pool]);
            if (listed.ExitCode == 0 && destroy.ExitCode != 0)
            {
                throw new InvalidOperationException($"zpool destroy {Pool}: {destroy.StandardError.Trim()}");
            }
            await vm.Vm.MonitorAsync("device_del vd5");
        }
        catch (Exception)
        {
            await vm.Vm.DownAsync(hard: true);
            await vm.Vm.UpAsync();
            await vm.EnsurePoolReadyAsync();
        }
    }
}
