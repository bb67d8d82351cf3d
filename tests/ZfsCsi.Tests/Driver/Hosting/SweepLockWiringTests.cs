using Microsoft.Extensions.DependencyInjection;
using Serilog;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.Driver.Options;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Driver.Hosting;

/// <summary>The host gives the Core's sweep the very locks the services take, so it never destroys under a running CreateVolume.</summary>
public sealed class SweepLockWiringTests
{
    private const string Parent = "data/k8s";
    private const string Dataset = Parent + "/pvc-1";

    [Fact]
    public async Task The_sweep_skips_a_half_made_volume_while_a_service_holds_its_lock()
    {
        var runner = new FakeCommandRunner();
        var halfMade =
            Row(Parent, "name", Parent, "-")
            + VolumeRows(Dataset, "pvc-1", state: Markers.StateCreating, refquota: 8 << 20)
            + Row(Dataset, "creation", "1", "-");
        runner
            .OnZfs(GetInventory(Parent))
            .Returns(halfMade)
            .Returns(halfMade)
            .Returns(Row(Parent, "name", Parent, "-"));
        runner
            .OnZfs("get", "-H", "-p", "-o", Columns, "zfs-csi:name,zfs-csi:state,creation", Dataset)
            .Returns(halfMade);
        runner.OnZfs("unmount").Returns();
        runner.OnZfs("destroy").Returns();
        var options = DriverOptions.Parse([
            "--mode",
            "controller",
            "--endpoint",
            $"unix:///tmp/zfs-csi-unit-{Guid.NewGuid():N}.sock",
            "--mount-lock-file=",
        ]);
        await using var app = DriverHost.Build(options, new LoggerConfiguration().CreateLogger(), runner);
        var volumes = app.Services.GetRequiredService<VolumeManager>();
        var locks = app.Services.GetRequiredService<OperationLocks>();

        using (locks.Acquire(Dataset))
        {
            await volumes.SweepAsync(CancellationToken.None);
            Assert.DoesNotContain(runner.Argv, a => a[0] == "destroy");
        }
        await volumes.SweepAsync(CancellationToken.None);

        Assert.Contains(["destroy", "-r", Dataset], runner.Argv);
        Assert.Same(locks, app.Services.GetRequiredService<IVolumeLocks>());
    }
}
