using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Volumes;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

public sealed class FaultFixture : DriverFixture;

/// <summary>Crashes, busy datasets and a pool that goes away: nothing lost, and the right codes.</summary>
public sealed class FaultTests(FaultFixture driver) : IClassFixture<FaultFixture>
{
    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    [Fact]
    public async Task Deleting_a_volume_with_files_open_on_the_storage_host_is_failed_precondition_and_keeps_it()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-open")))).Volume.VolumeId;
        var mountpoint = await driver.GetPropertyAsync(id, "mountpoint");
        await using (var open = File.Open(Path.Combine(mountpoint, "held-open"), FileMode.Create))
        {
            await open.WriteAsync(new byte[] { 1, 2, 3 });
            await open.FlushAsync();
            var e = await Assert.ThrowsAsync<RpcException>(async () =>
                await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id })
            );
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("in use", e.Status.Detail);
            Assert.Contains(id, await driver.ChildDatasetsAsync());
            Assert.Equal("yes", await driver.GetPropertyAsync(id, "mounted"));
        }
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        Assert.DoesNotContain(id, await driver.ChildDatasetsAsync());
    }

    [Fact]
    public async Task A_dataset_made_by_hand_inside_a_volume_keeps_the_volume_from_being_destroyed()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-child")))).Volume.VolumeId;
        var child = $"{id}/admin-data";
        await TestPool.WithMountLockAsync(() => Sh.CheckAsync("zfs", "create", child));
        await File.WriteAllTextAsync(
            Path.Combine(await driver.GetPropertyAsync(child, "mountpoint"), "keep.txt"),
            "precious"
        );

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id })
        );
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("admin-data", e.Status.Detail);
        Assert.Contains(child, await driver.AllDatasetsAsync());
        Assert.Equal(
            "precious",
            await File.ReadAllTextAsync(Path.Combine(await driver.GetPropertyAsync(child, "mountpoint"), "keep.txt"))
        );

        // zfs-fuse calls a fresh mount busy for a moment: retry as the driver does.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var destroyed = await TestPool.WithMountLockAsync(async () =>
            {
                await Sh.RunAsync("zfs", "unmount", child);
                return (await Sh.RunAsync("zfs", "destroy", child)).ExitCode == 0;
            });
            if (destroyed)
            {
                break;
            }
            await Task.Delay(50);
        }
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        Assert.DoesNotContain(id, await driver.ChildDatasetsAsync());
    }

    [Fact]
    public async Task A_volume_left_half_made_by_a_crash_is_hidden_until_the_retry_finishes_it()
    {
        // What a crash right after the one `zfs create` leaves: the dataset with its markers, state "creating".
        var name = Unique("pvc-crash");
        var dataset = $"{driver.Pool.Parent}/{name}";
        await TestPool.WithMountLockAsync(() =>
            Sh.CheckAsync(
                "zfs",
                "create",
                "-o",
                "refquota=8388608",
                "-o",
                $"{Markers.CsiName}={Markers.EncodeName(name)}",
                "-o",
                $"{Markers.ParametersDigest}={VolumeParameters.Default.Digest}",
                "-o",
                $"{Markers.State}={Markers.StateCreating}",
                dataset
            )
        );

        Assert.DoesNotContain((await Controller.ListVolumesAsync(new ListVolumesRequest())).Entries, e =>
            e.Volume.VolumeId == dataset
        );
        var hidden = await Assert.ThrowsAsync<RpcException>(async () =>
            await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = dataset })
        );
        Assert.Equal(StatusCode.NotFound, hidden.StatusCode);

        var retried = await Controller.CreateVolumeAsync(Create(name, 8 * MiB));
        Assert.Equal(dataset, retried.Volume.VolumeId);
        Assert.Equal("ready", await driver.GetPropertyAsync(dataset, Markers.State));
        Assert.Contains((await Controller.ListVolumesAsync(new ListVolumesRequest())).Entries, e =>
            e.Volume.VolumeId == dataset
        );
    }

    [Fact]
    public async Task A_half_made_volume_can_be_deleted()
    {
        var name = Unique("pvc-crash-del");
        var dataset = $"{driver.Pool.Parent}/{name}";
        await TestPool.WithMountLockAsync(() =>
            Sh.CheckAsync(
                "zfs",
                "create",
                "-o",
                $"{Markers.CsiName}={Markers.EncodeName(name)}",
                "-o",
                $"{Markers.State}={Markers.StateCreating}",
                dataset
            )
        );
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = dataset });
        Assert.DoesNotContain(dataset, await driver.ChildDatasetsAsync());
    }

    [Fact]
    public async Task With_the_pool_exported_every_rpc_is_unavailable_and_nothing_is_reported_gone()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-export")))).Volume.VolumeId;
        await TestPool.WithMountLockAsync(() => Sh.CheckAsync("zpool", "export", driver.Pool.Name));
        try
        {
            Assert.False((await driver.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);
            async Task Unavailable(Func<Task> call)
            {
                var e = await Assert.ThrowsAsync<RpcException>(call);
                Assert.Equal(StatusCode.Unavailable, e.StatusCode);
                Assert.Contains(driver.Pool.Name, e.Status.Detail);
            }
            // DeleteVolume must not answer OK: the data still exists on the exported pool.
            await Unavailable(async () =>
                await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id })
            );
            await Unavailable(async () => await Controller.CreateVolumeAsync(Create(Unique("pvc-while-exported"))));
            var clone = Create(Unique("pvc-clone-while-exported"));
            clone.VolumeContentSource = new VolumeContentSource
            {
                Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = id },
            };
            await Unavailable(async () => await Controller.CreateVolumeAsync(clone));
            await Unavailable(async () =>
                await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id })
            );
            await Unavailable(async () =>
                await Controller.ControllerExpandVolumeAsync(
                    new ControllerExpandVolumeRequest
                    {
                        VolumeId = id,
                        CapacityRange = new Csi.V1.CapacityRange { RequiredBytes = 64 * MiB },
                    }
                )
            );
            await Unavailable(async () => await Controller.ListVolumesAsync(new ListVolumesRequest()));
            await Unavailable(async () => await Controller.GetCapacityAsync(new GetCapacityRequest()));
        }
        finally
        {
            await TestPool.WithMountLockAsync(() =>
                Sh.CheckAsync("zpool", "import", "-d", driver.Pool.VdevDirectory, driver.Pool.Name)
            );
        }
        Assert.True((await driver.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);
        Assert.Contains((await Controller.ListVolumesAsync(new ListVolumesRequest())).Entries, e =>
            e.Volume.VolumeId == id
        );
    }
}

/// <summary>A zfs that hangs: a wrapper that sleeps longer than the driver's command timeout.</summary>
public sealed class HungZfsFixture : DriverFixture
{
    public static readonly string Script = $"/tmp/zfs-csi-tests/hung-zfs-{Guid.NewGuid():N}";

    protected override IEnumerable<string> ExtraArgs =>
        ["--mode", "controller", "--zfs", Script, "--zfs-timeout", "0.5"];

    public override async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Script)!);
        await File.WriteAllTextAsync(Script, "#!/bin/sh\nexec sleep 30\n");
        File.SetUnixFileMode(Script, (UnixFileMode)0x1ED);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(Script);
    }
}

public sealed class HungZfsTests(HungZfsFixture driver) : IClassFixture<HungZfsFixture>
{
    [Fact]
    public async Task A_hung_zfs_makes_rpcs_fail_with_deadline_exceeded_within_the_timeout()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await driver.Client.Controller.CreateVolumeAsync(Create(Unique("pvc-hung")))
        );
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.Contains("hung", e.Status.Detail);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Probe_answers_not_ready_rather_than_an_error_when_zfs_hangs()
    {
        Assert.False((await driver.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);
    }
}
