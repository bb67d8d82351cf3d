using System.Diagnostics;
using Csi.V1;
using Xunit.Abstractions;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>
/// What the retain strategy costs on zfs-fuse, measured on a pool of its own and printed for the
/// README: a deleted volume kept for its snapshot holds only the blocks that snapshot holds
/// (unsnapshotted data is rolled back), and the delete costs a few extra zfs commands.
/// </summary>
public sealed class RetainCostTests(SnapshotFixture driver, ITestOutputHelper output) : IClassFixture<SnapshotFixture>
{
    [Fact]
    public async Task A_retained_volume_holds_only_what_its_snapshots_hold_and_everything_is_freed_at_the_end()
    {
        var v = Unique("pvc-cost");
        var volume = await driver.CreateVolumeAsync(v, 64 * MiB);
        var empty = await UsedAsync();
        await WriteRandomAsync(volume, "a", 16);
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-cost"), volume);
        await WriteRandomAsync(volume, "b", 16);
        var full = await UsedAsync();

        var timer = Stopwatch.StartNew();
        await driver.DeleteVolumeAsync(volume);
        var retainMs = timer.Elapsed.TotalMilliseconds;
        var retained = await UsedAsync();
        timer.Restart();
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        var freeMs = timer.Elapsed.TotalMilliseconds;
        Assert.Empty(await driver.SweptAsync(v)); // the background sweep destroys the kept volume
        var freed = await UsedAsync();

        output.WriteLine(
            $"used: empty volume {empty / (double)MiB:F1} MiB, 16+16 MiB written {full / (double)MiB:F1} MiB, retained after DeleteVolume {retained / (double)MiB:F1} MiB, after DeleteSnapshot {freed / (double)MiB:F1} MiB"
        );
        output.WriteLine(
            $"DeleteVolume (retain) {retainMs:F0} ms; DeleteSnapshot (the background sweep then frees the volume) {freeMs:F0} ms"
        );
        Assert.InRange(full - retained, 14 * MiB, 18 * MiB); // the unsnapshotted 16 MiB went back to the pool
        Assert.InRange(retained - freed, 14 * MiB, 18 * MiB); // the snapshot's 16 MiB went with the snapshot
    }

    [Fact]
    public async Task Timings_of_snapshot_operations_and_of_a_delete_with_the_sweep()
    {
        var timings = new List<string>();
        async Task<T> Time<T>(string what, Func<Task<T>> action)
        {
            var timer = Stopwatch.StartNew();
            var result = await action();
            timings.Add($"{what}: {timer.Elapsed.TotalMilliseconds:F0} ms");
            return result;
        }

        var plain = await driver.CreateVolumeAsync(Unique("pvc-t0"));
        await Time("DeleteVolume without snapshots", async () =>
        {
            await driver.DeleteVolumeAsync(plain);
            return 0;
        });
        var volume = await driver.CreateVolumeAsync(Unique("pvc-t1"));
        var snapshot = await Time("CreateSnapshot", () => driver.SnapshotAsync(Unique("snapshot-t1"), volume));
        var restored = await Time("CreateVolume from a snapshot", () =>
            driver.RestoreAsync(Unique("pvc-t1r"), snapshot.SnapshotId)
        );
        var cloned = await Time("CreateVolume from a volume", () => driver.CloneAsync(Unique("pvc-t1c"), volume));
        await Time("ListSnapshots", () => driver.ListSnapshotsAsync());
        await Time("DeleteVolume retained (has a snapshot and clones)", async () =>
        {
            await driver.DeleteVolumeAsync(volume);
            return 0;
        });
        await Time("DeleteSnapshot deferred (has a restore)", async () =>
        {
            await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
            return 0;
        });
        await Time("DeleteVolume of the restore", async () =>
        {
            await driver.DeleteVolumeAsync(restored.Volume.VolumeId);
            return 0;
        });
        await Time("DeleteVolume of the clone (last dependent: frees the origin)", async () =>
        {
            await driver.DeleteVolumeAsync(cloned.Volume.VolumeId);
            return 0;
        });
        foreach (var line in timings)
        {
            output.WriteLine(line);
        }
        foreach (
            var e in driver
                .Logs.Events.Where(e =>
                    e.MessageTemplate.Text.StartsWith("Command {Argv} exited", StringComparison.Ordinal)
                )
                .TakeLast(40)
        )
        {
            output.WriteLine($"{e.Timestamp:HH:mm:ss.fff} {e.RenderMessage()}");
        }
        Assert.Empty(
            await SnapshotFixture.AfterSweepAsync(async () =>
                (await driver.PoolNamesAsync()).Where(n => n == volume).ToList()
            )
        );
    }

    [Fact]
    public async Task Timing_of_a_group_snapshot_among_fifty_other_volumes()
    {
        for (var i = 0; i < 50; i++)
        {
            await driver.CreateVolumeAsync(Unique($"pvc-bulk{i}"));
        }
        var a = await driver.CreateVolumeAsync(Unique("pvc-gt-a"));
        var b = await driver.CreateVolumeAsync(Unique("pvc-gt-b"));
        var request = new CreateVolumeGroupSnapshotRequest { Name = Unique("groupsnapshot-t") };
        request.SourceVolumeIds.Add([a, b]);
        var timer = Stopwatch.StartNew();
        var group = (await driver.Client.GroupController.CreateVolumeGroupSnapshotAsync(request)).GroupSnapshot;
        var createMs = timer.Elapsed.TotalMilliseconds;
        timer.Restart();
        await driver.Client.GroupController.DeleteVolumeGroupSnapshotAsync(
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }
        );
        output.WriteLine(
            $"group snapshot of 2 volumes among 52: create {createMs:F0} ms (first call also learns that zfs-fuse needs -r), delete {timer.Elapsed.TotalMilliseconds:F0} ms"
        );
        timer.Restart();
        request.Name = Unique("groupsnapshot-t2");
        group = (await driver.Client.GroupController.CreateVolumeGroupSnapshotAsync(request)).GroupSnapshot;
        output.WriteLine($"second group snapshot: create {timer.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(2, group.Snapshots.Count);
        Assert.DoesNotContain(await driver.PoolNamesAsync(), n => n.Contains("@Tmp-", StringComparison.Ordinal));
    }

    private async Task WriteRandomAsync(string volumeId, string file, int mib)
    {
        var path = Path.Combine(await driver.GetPropertyAsync(volumeId, "mountpoint"), file);
        await using var stream = File.Create(path);
        var block = new byte[MiB];
        for (var i = 0; i < mib; i++)
        {
            Random.Shared.NextBytes(block);
            await stream.WriteAsync(block);
        }
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The parent's used bytes once ZFS's accounting has settled (it follows transaction group commits).</summary>
    private async Task<long> UsedAsync()
    {
        await Infrastructure.Sh.CheckAsync("sync");
        var last = -1L;
        for (var i = 0; i < 40; i++)
        {
            var used = long.Parse(await driver.GetPropertyAsync(driver.Pool.Parent, "used"));
            if (used == last)
            {
                return used;
            }
            last = used;
            await Task.Delay(750);
        }
        return last;
    }
}
