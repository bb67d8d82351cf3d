using Csi.V1;
using Grpc.Core;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>A pool of its own, filled by thick volumes: snapshots and clones that cannot fit are RESOURCE_EXHAUSTED and leave nothing.</summary>
public sealed class PoolFullTests(SnapshotFixture driver) : IClassFixture<SnapshotFixture>
{
    [Fact]
    public async Task A_snapshot_or_a_thick_restore_on_a_full_pool_is_resource_exhausted_and_leaves_nothing()
    {
        var thick = new Dictionary<string, string> { ["provisioning"] = "thick" };
        var (v, w, r) = ("pvc-full-v", "pvc-full-w", "pvc-full-r");
        var volume = await driver.CreateVolumeAsync(v, 48 * MiB, thick);
        var snapshotBefore = await driver.SnapshotAsync("snapshot-full-0", volume);
        var path = Path.Combine(await driver.GetPropertyAsync(volume, "mountpoint"), "random");
        await using (var file = File.Create(path))
        {
            var block = new byte[MiB];
            for (var i = 0; i < 24; i++)
            {
                Random.Shared.NextBytes(block);
                await file.WriteAsync(block);
            }
            file.Flush(flushToDisk: true);
        }
        await Infrastructure.Sh.CheckAsync("sync");
        // Reserve all but a little of what is left: a snapshot of the 24 MiB the thick volume references cannot fit.
        var available = long.Parse(await driver.GetPropertyAsync(driver.Pool.Parent, "available"));
        await driver.CreateVolumeAsync(w, available - 4 * MiB, thick);

        Assert.Equal(
            StatusCode.ResourceExhausted,
            await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync("snapshot-full-1", volume))
        );
        Assert.Equal(
            StatusCode.ResourceExhausted,
            await SnapshotFixture.CodeOfAsync(() =>
                driver.RestoreAsync(r, snapshotBefore.SnapshotId, 48 * MiB, parameters: thick)
            )
        );
        Assert.Equal(
            StatusCode.ResourceExhausted,
            await SnapshotFixture.CodeOfAsync(() => driver.CloneAsync("pvc-full-c", volume))
        );

        Assert.Equal([$"{volume}@snapshot-full-0"], (await driver.LeftoversAsync(v)).Where(n => n.Contains('@')));
        Assert.Empty(await driver.SweptAsync(r, "pvc-full-c"));
        Assert.Equal([snapshotBefore.SnapshotId], (await driver.ListSnapshotsAsync()).Select(s => s.SnapshotId));
    }
}
