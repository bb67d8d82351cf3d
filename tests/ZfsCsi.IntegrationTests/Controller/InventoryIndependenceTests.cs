using Csi.V1;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Volumes;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>
/// Every controller RPC that names one volume or one snapshot runs the same zfs commands whatever
/// else the pool holds: counted on a real zfs-fuse pool with a small inventory, then again after
/// thirty more volumes with three snapshots each, and none of them lists the parent. (A recursive
/// listing is one process either way; its cost grows with the inventory, so it is what the check
/// forbids, not only a higher count.) Timings are the benchmark's (lab/bench), never asserted here.
/// </summary>
public sealed class InventoryIndependenceTests(DriverFixture driver) : IClassFixture<DriverFixture>
{
    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    [Fact]
    public async Task Per_object_rpcs_run_the_same_zfs_commands_with_ninety_more_snapshots_and_never_list_the_parent()
    {
        // A first round learns what the backend takes (zfs-fuse: one snapshot name per command).
        await ProfileAsync("w");
        var small = await ProfileAsync("a");
        await GrowAsync(volumes: 30, snapshotsEach: 3);
        var large = await ProfileAsync("b");

        foreach (var (rpc, commands) in large)
        {
            Assert.False(
                commands.Any(ListsTheParent),
                $"{rpc} lists the parent: {string.Join("; ", commands.Where(ListsTheParent))}"
            );
        }
        Assert.Equal(Summary(small), Summary(large));
    }

    /// <summary>
    /// Each RPC's commands, a command repeated right after itself counted once: zfs-fuse calls a
    /// dataset busy for a moment after a mount and the driver retries the same argv (docs/zfs.md);
    /// that is the backend's timing, not the inventory.
    /// </summary>
    private static string Summary(IReadOnlyList<(string Rpc, IReadOnlyList<CommandLine> Commands)> profile) =>
        string.Join(
            '\n',
            profile.Select(p =>
            {
                var distinct = p
                    .Commands.Where((c, i) => i == 0 || !c.Arguments.SequenceEqual(p.Commands[i - 1].Arguments))
                    .ToList();
                return $"{p.Rpc}: {distinct.Count} ({string.Join(", ", distinct.Select(c => c.Arguments[0]))})";
            })
        );

    /// <summary>A <c>zfs get -r</c> or <c>-d 1</c> of the parent dataset: a listing of the whole inventory.</summary>
    private bool ListsTheParent(CommandLine command) =>
        command.Arguments.Contains(driver.Pool.Parent)
        && (command.Arguments.Contains("-r") || command.Arguments.Contains("-d"));

    private async Task<IReadOnlyList<(string Rpc, IReadOnlyList<CommandLine> Commands)>> ProfileAsync(string round)
    {
        var profile = new List<(string, IReadOnlyList<CommandLine>)>();
        async Task<T> Measure<T>(string rpc, Func<Task<T>> call)
        {
            T result = default!;
            var commands = await driver.Commands.DuringAsync(async () => result = await call());
            profile.Add((rpc, commands));
            return result;
        }
        var name = Unique($"pvc-io{round}");
        var volume = (await Measure("CreateVolume", async () => await Controller.CreateVolumeAsync(Create(name))))
            .Volume
            .VolumeId;
        await Measure("CreateVolume retry", async () => await Controller.CreateVolumeAsync(Create(name)));
        await Measure("ControllerGetVolume", async () =>
            await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume })
        );
        await Measure("ControllerExpandVolume", async () => await Controller.ControllerExpandVolumeAsync(
                new ControllerExpandVolumeRequest
                {
                    VolumeId = volume,
                    CapacityRange = new Csi.V1.CapacityRange { RequiredBytes = 16 * MiB },
                    VolumeCapability = Mount(),
                }
            ));
        var snapshotName = Unique($"snapshot-io{round}");
        var snapshot = (
            await Measure("CreateSnapshot", async () =>
                await Controller.CreateSnapshotAsync(
                    new CreateSnapshotRequest { Name = snapshotName, SourceVolumeId = volume }
                )
            )
        )
            .Snapshot
            .SnapshotId;
        await Measure("CreateSnapshot retry", async () =>
            await Controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = snapshotName, SourceVolumeId = volume }
            )
        );
        await Measure("GetSnapshot", async () =>
            await Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = snapshot })
        );
        await Measure("ListSnapshots by id", async () =>
            await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = snapshot })
        );
        var restore = Create(Unique($"pvc-io{round}r"));
        restore.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot },
        };
        var restored = (
            await Measure("CreateVolume from a snapshot", async () => await Controller.CreateVolumeAsync(restore))
        )
            .Volume
            .VolumeId;
        var clone = Create(Unique($"pvc-io{round}c"), 16 * MiB);
        clone.VolumeContentSource = new VolumeContentSource
        {
            Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = volume },
        };
        var cloned = (
            await Measure("CreateVolume from a volume", async () => await Controller.CreateVolumeAsync(clone))
        )
            .Volume
            .VolumeId;
        // Deletes last. Each asks the background sweep to run seconds later (PeriodicSweep.RequestDelay),
        // and the sweep's commands must not be counted as an RPC's: on a loaded machine two deletes
        // back to back outlast that delay. So each delete waits until the one before it is swept.
        async Task<T> MeasureDelete<T>(string rpc, Func<Task<T>> call)
        {
            await driver.Commands.QuietAsync();
            return await Measure(rpc, call);
        }
        await MeasureDelete("DeleteVolume", async () =>
            await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = cloned })
        );
        await MeasureDelete("DeleteVolume of a restore", async () =>
            await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = restored })
        );
        await MeasureDelete("DeleteSnapshot", async () =>
            await Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot })
        );
        await MeasureDelete("DeleteVolume with its snapshot gone", async () =>
            await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume })
        );
        // Let the requested sweep run and finish before anything else is counted.
        await Task.Delay(TimeSpan.FromSeconds(6));
        return profile;
    }

    /// <summary>Volumes of ours with snapshots of ours, made straight with zfs (unmounted, to be quick).</summary>
    private async Task GrowAsync(int volumes, int snapshotsEach)
    {
        for (var i = 0; i < volumes; i++)
        {
            var dataset = await driver.Pool.MakeReadyVolumeByHandAsync($"pvc-inventory-{i:D3}");
            for (var s = 0; s < snapshotsEach; s++)
            {
                var snapshot = $"snapshot-inventory-{i:D3}-{s}";
                await Sh.CheckAsync(
                    "zfs",
                    "snapshot",
                    "-o",
                    $"{Markers.CsiName}={Markers.EncodeName(snapshot)}",
                    "-o",
                    $"{Markers.SnapshotId}={dataset}@{snapshot}",
                    $"{dataset}@{snapshot}"
                );
            }
        }
    }
}
