using Csi.V1;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>What a crash at any step leaves is finished by the CO's retry or cleaned; nothing is left behind.</summary>
public sealed class CrashRetryTests(SnapshotFixture driver) : IClassFixture<SnapshotFixture>
{
    [Fact]
    public async Task A_group_snapshot_left_half_renamed_by_a_crash_is_taken_again_at_one_instant_by_the_retry()
    {
        var (a, b) = (Unique("pvc-ca"), Unique("pvc-cb"));
        var va = await driver.CreateVolumeAsync(a);
        var vb = await driver.CreateVolumeAsync(b);
        var name = Unique("groupsnapshot-c1");
        var leaf = SnapshotNaming.GroupLeafFor(name);
        // The state after "zfs snapshot -r" and the first rename, then a crash.
        await Infrastructure.Sh.CheckAsync(
            "zfs",
            "snapshot",
            "-r",
            "-o",
            $"{Markers.Group}={Markers.EncodeName(name)}",
            $"{driver.Pool.Parent}@Tmp-{leaf}"
        );
        await driver.ZfsLockedAsync("rename", $"{va}@Tmp-{leaf}", $"{va}@{leaf}");

        var request = new CreateVolumeGroupSnapshotRequest { Name = name };
        request.SourceVolumeIds.Add([va, vb]);
        var group = (await driver.Client.GroupController.CreateVolumeGroupSnapshotAsync(request)).GroupSnapshot;

        Assert.Equal(
            [$"{va}@{leaf}", $"{vb}@{leaf}"],
            group.Snapshots.Select(s => s.SnapshotId).Order(StringComparer.Ordinal)
        );
        Assert.DoesNotContain(await driver.PoolNamesAsync(), n => n.Contains("@Tmp-", StringComparison.Ordinal));
        await driver.Client.GroupController.DeleteVolumeGroupSnapshotAsync(
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }
        );
        await driver.DeleteVolumeAsync(va);
        await driver.DeleteVolumeAsync(vb);
        Assert.Empty(await driver.SweptAsync(a, b));
    }

    [Fact]
    public async Task A_clone_whose_create_crashed_after_the_source_snapshot_is_finished_by_the_retry()
    {
        var (v, c) = (Unique("pvc-cc"), Unique("pvc-ccc"));
        var volume = await driver.CreateVolumeAsync(v);
        await driver.WriteAsync(volume, "f", "source");
        await Infrastructure.Sh.CheckAsync(
            "zfs",
            "snapshot",
            "-o",
            $"{Markers.State}={Markers.StateHidden}",
            $"{volume}@{SnapshotNaming.CloneSourceLeaf(c)}"
        );

        var clone = (await driver.CloneAsync(c, volume)).Volume.VolumeId;

        Assert.Equal("source", await driver.ReadAsync(clone, "f"));
        Assert.Equal(
            "on",
            await driver.GetPropertyAsync($"{volume}@{SnapshotNaming.CloneSourceLeaf(c)}", "defer_destroy")
        );
        await driver.DeleteVolumeAsync(clone);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, c));
    }

    [Fact]
    public async Task A_retained_thick_volume_gives_its_reservation_back_to_the_pool()
    {
        var v = Unique("pvc-ct");
        var volume = await driver.CreateVolumeAsync(
            v,
            32 * MiB,
            new Dictionary<string, string> { ["provisioning"] = "thick" }
        );
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-ct"), volume);
        await driver.DeleteVolumeAsync(volume);
        Assert.Equal("0", await driver.GetPropertyAsync(volume, "refreservation"));
        Assert.Equal("deleted", await driver.GetPropertyAsync(volume, "zfs-csi:state"));
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.Empty(await driver.SweptAsync(v));
    }

    [Fact]
    public async Task A_snapshot_name_used_again_after_its_delete_was_deferred_gets_a_new_snapshot()
    {
        var (v, r) = (Unique("pvc-cn"), Unique("pvc-cnr"));
        var volume = await driver.CreateVolumeAsync(v);
        await driver.WriteAsync(volume, "f", "first");
        var name = Unique("snapshot-cn");
        var first = await driver.SnapshotAsync(name, volume);
        var restored = (await driver.RestoreAsync(r, first.SnapshotId)).Volume.VolumeId;
        await driver.DeleteSnapshotAsync(first.SnapshotId); // deferred: the restore needs it
        await driver.WriteAsync(volume, "f", "second");

        var second = await driver.SnapshotAsync(name, volume);

        Assert.Equal(first.SnapshotId, second.SnapshotId);
        var again = (await driver.RestoreAsync(Unique("pvc-cn2"), second.SnapshotId)).Volume.VolumeId;
        Assert.Equal("second", await driver.ReadAsync(again, "f"));
        Assert.Equal("first", await driver.ReadAsync(restored, "f"));
        foreach (var id in new[] { again, restored })
        {
            await driver.DeleteVolumeAsync(id);
        }
        await driver.DeleteSnapshotAsync(second.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, r));
    }
}
