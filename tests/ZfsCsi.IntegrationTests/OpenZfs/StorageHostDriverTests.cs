using Csi.V1;
using ZfsCsi.IntegrationTests.Bootstrap;
using ZfsCsi.IntegrationTests.Controller;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.OpenZfs;

/// <summary>
/// The controller in the OpenZFS storage host VM, over its forwarded socket, on what only a real
/// OpenZFS host has: the one-command atomic group snapshot, and disks that can fail. Each test
/// starts its own driver on a parent dataset of its own and removes it at the end.
/// </summary>
[Collection(StorageHostVmCollection.Name)]
[Trait("Backend", "openzfs")]
public sealed class StorageHostDriverTests(StorageHostVmFixture vm) : IAsyncLifetime
{
    private readonly string _parent = $"data/{Requests.Unique("drv")}";
    private DriverProcess _driver = null!;
    private CsiClient _csi = null!;

    public async Task InitializeAsync()
    {
        await vm.EnsurePoolReadyAsync();
        await InitializeDriverOnlyAsync();
    }

    public async Task DisposeAsync()
    {
        _csi.Dispose();
        await _driver.DisposeAsync();
        if (await vm.PoolHealthAsync() is not null)
        {
            await vm.Vm.RunAsync("zfs", ["destroy", "-r", "-f", _parent]);
        }
    }

    [Fact]
    public async Task A_group_snapshot_takes_every_member_in_one_zfs_snapshot_command_at_one_transaction()
    {
        var a = (await _csi.Controller.CreateVolumeAsync(Requests.Create(Requests.Unique("ga")))).Volume.VolumeId;
        var b = (await _csi.Controller.CreateVolumeAsync(Requests.Create(Requests.Unique("gb")))).Volume.VolumeId;

        var group = (
            await _csi.GroupController.CreateVolumeGroupSnapshotAsync(
                new CreateVolumeGroupSnapshotRequest { Name = Requests.Unique("group"), SourceVolumeIds = { a, b } }
            )
        ).GroupSnapshot;

        Assert.Equal(2, group.Snapshots.Count);
        var ids = group.Snapshots.Select(s => s.SnapshotId).ToArray();
        var txgs = (await vm.Host.CheckAsync("zfs", ["get", "-H", "-p", "-o", "value", "createtxg", .. ids])).Split(
            '\n',
            StringSplitOptions.RemoveEmptyEntries
        );
        Assert.True(
            txgs.Length == 2 && txgs[0] == txgs[1],
            $"members were taken in different transactions: {string.Join(", ", txgs)}"
        );
        // The multi-name form, not zfs-fuse's recursive snapshot of the whole parent and renames.
        Assert.Contains(_driver.OutputLines(), l =>
            l.Contains("Command zfs snapshot", StringComparison.Ordinal)
            && ids.All(id => l.Contains(id, StringComparison.Ordinal))
        );
        var temporaries = await vm.Host.CheckAsync("zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-r", _parent);
        Assert.DoesNotContain("@Tmp-", temporaries, StringComparison.Ordinal);

        await _csi.GroupController.DeleteVolumeGroupSnapshotAsync(
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { ids } }
        );
        Assert.Empty(
            (await vm.Host.CheckAsync("zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-r", _parent)).Trim()
        );
    }

    [Fact]
    public async Task A_disk_pulled_from_a_mirror_leaves_the_pool_DEGRADED_the_volume_writable_and_health_saying_so_until_it_is_back()
    {
        var id = (await _csi.Controller.CreateVolumeAsync(Requests.Create(Requests.Unique("deg")))).Volume.VolumeId;
        var file = $"/{id}/before";
        await vm.Host.CheckAsync("sh", "-c", "echo kept > \"$1\" && sync", "sh", file);

        // zed, as a Debian host runs it once ZFS is up: it acts on the removal event.
        await vm.Host.CheckAsync("sh", "-c", "pgrep -x zed >/dev/null || zed");
        await vm.Vm.MonitorAsync("device_del vd2");
        try
        {
            // ZFS notices a vanished disk when I/O to it fails (and zed, as on a Debian host, reacts to
            // the removal event): writes go on meanwhile, each synced.
            var n = 0;
            var degraded = await GatedDriver.EventuallyAsync(
                async () =>
                {
                    await vm.Host.CheckAsync(
                        "sh",
                        "-c",
                        "echo \"$2\" > \"$1/during-$2\" && sync",
                        "sh",
                        $"/{id}",
                        $"{n++}"
                    );
                    return await vm.PoolHealthAsync() == "DEGRADED";
                },
                TimeSpan.FromSeconds(120)
            );
            Assert.True(
                degraded,
                $"the pool did not go DEGRADED after disk 2 was pulled: {(await vm.Vm.RunAsync("zpool", ["status", "data"])).StandardOutput}"
            );
            await vm.Host.CheckAsync("sh", "-c", "echo written-degraded > \"$1\" && sync", "sh", $"/{id}/during");
            Assert.Equal("kept", (await vm.Host.CheckAsync("cat", file)).Trim());

            var health = await _csi.Controller.ControllerGetVolumeHealthAsync(
                new ControllerGetVolumeHealthRequest { VolumeId = id }
            );
            Assert.Contains(health.VolumeHealth.HealthStatuses, s => s.Reason == "PoolDegraded");
            var probe = await _csi.Identity.ProbeAsync(new ProbeRequest());
            Assert.True(
                probe.Ready is null || probe.Ready == true,
                "a DEGRADED pool still serves: Probe must stay ready"
            );
        }
        finally
        {
            // The same disk back in its slot; ZFS resilvers what it missed.
            await vm.Vm.MonitorAsync(
                $"drive_add 0 file={vm.Vm.State}/disk2.raw,if=none,id=d2,format=raw,cache=writeback"
            );
            await vm.Vm.MonitorAsync("device_add virtio-blk-pci,bus=rp2,drive=d2,id=vd2,serial=zcsi-disk2");
            await GatedDriver.EventuallyAsync(
                async () => (await vm.Vm.RunAsync("test", ["-e", "/dev/disk/by-id/virtio-zcsi-disk2"])).ExitCode == 0,
                TimeSpan.FromSeconds(60)
            );
            await vm.Vm.RunAsync("zpool", ["online", "data", "virtio-zcsi-disk2"]);
        }
        Assert.True(
            await GatedDriver.EventuallyAsync(
                async () => await vm.PoolHealthAsync() == "ONLINE",
                TimeSpan.FromSeconds(180)
            ),
            $"the pool did not come back ONLINE: {(await vm.Vm.RunAsync("zpool", ["status", "data"])).StandardOutput}"
        );
        Assert.Equal("written-degraded", (await vm.Host.CheckAsync("cat", $"/{id}/during")).Trim());
        var healed = await _csi.Controller.ControllerGetVolumeHealthAsync(
            new ControllerGetVolumeHealthRequest { VolumeId = id }
        );
        Assert.DoesNotContain(healed.VolumeHealth.HealthStatuses, s => s.Reason == "PoolDegraded");
    }

    [Fact]
    public async Task The_pool_exported_under_the_running_driver_makes_it_not_ready_and_creates_unavailable_until_it_is_imported_again()
    {
        var id = (await _csi.Controller.CreateVolumeAsync(Requests.Create(Requests.Unique("exp")))).Volume.VolumeId;
        await vm.Host.CheckAsync("sh", "-c", "echo kept > \"$1\" && sync", "sh", $"/{id}/file");
        await vm.Host.CheckAsync("zpool", "export", VmStorageHost.PoolName);
        try
        {
            Assert.True(
                await GatedDriver.EventuallyAsync(
                    async () => (await _csi.Identity.ProbeAsync(new ProbeRequest())).Ready == false,
                    TimeSpan.FromSeconds(60)
                ),
                "Probe stayed ready with the pool exported"
            );
            var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
                await _csi.Controller.CreateVolumeAsync(Requests.Create(Requests.Unique("exp2")))
            );
            Assert.Equal(Grpc.Core.StatusCode.Unavailable, refused.StatusCode);
            Assert.Contains(VmStorageHost.PoolName, refused.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            await vm.EnsurePoolReadyAsync();
        }
        Assert.True(
            await GatedDriver.EventuallyAsync(
                async () => (await _csi.Identity.ProbeAsync(new ProbeRequest())).Ready != false,
                TimeSpan.FromSeconds(60)
            ),
            "Probe did not come back once the pool was imported again"
        );
        Assert.Equal("kept", (await vm.Host.CheckAsync("cat", $"/{id}/file")).Trim());
        var again = (await _csi.Controller.CreateVolumeAsync(Requests.Create(Requests.Unique("exp3")))).Volume;
        Assert.StartsWith(_parent + "/", again.VolumeId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_power_cut_in_the_middle_of_CreateVolume_leaves_nothing_the_retry_after_the_reboot_cannot_finish()
    {
        var name = Requests.Unique("cut");
        // In flight when the power goes: the CO never hears back.
        var creating = _csi.Controller.CreateVolumeAsync(Requests.Create(name, 64 * Requests.MiB)).ResponseAsync;
        await Task.Delay(TimeSpan.FromMilliseconds(700));
        await vm.Vm.DownAsync(hard: true);
        await Assert.ThrowsAnyAsync<Exception>(() => creating);
        _csi.Dispose();
        await _driver.DisposeAsync();

        await vm.Vm.UpAsync();
        await vm.EnsurePoolReadyAsync();
        await InitializeDriverOnlyAsync();
        // The CO's retry of the same request.
        var volume = (await _csi.Controller.CreateVolumeAsync(Requests.Create(name, 64 * Requests.MiB))).Volume;

        Assert.Equal(64 * Requests.MiB, volume.CapacityBytes);
        var children = (await vm.Host.CheckAsync("zfs", "list", "-H", "-o", "name", "-r", _parent))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(n => n != _parent)
            .ToList();
        Assert.Equal([volume.VolumeId], children);
        Assert.Equal(
            "ready",
            (await vm.Host.CheckAsync("zfs", "get", "-H", "-o", "value", "zfs-csi:state", volume.VolumeId)).Trim()
        );
        await _csi.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
        var left = (await vm.Host.CheckAsync("zfs", "list", "-H", "-o", "name", "-d", "1", _parent)).Split(
            '\n',
            StringSplitOptions.RemoveEmptyEntries
        );
        Assert.Equal([_parent], left);
    }

    private async Task InitializeDriverOnlyAsync()
    {
        _driver = await DriverProcess.StartOnAsync(
            vm.Host,
            vm.RunDirectory,
            $"drv-{Guid.NewGuid():N}"[..12],
            ["--mode", "controller", "--parent-dataset", _parent, "--zfs-timeout", "60"]
        );
        _csi = new CsiClient(_driver.SocketPath);
    }
}
