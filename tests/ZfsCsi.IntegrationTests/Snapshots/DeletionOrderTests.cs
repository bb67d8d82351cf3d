using Csi.V1;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>
/// Independent lifetimes (issue 4): whatever the order of deletion, what is not deleted stays
/// usable, what is deleted is never listed again, and once the last dependent is gone nothing of
/// it is left in the pool, hidden or not.
/// </summary>
public sealed class DeletionOrderTests(SnapshotFixture driver) : IClassFixture<SnapshotFixture>
{
    [Fact]
    public async Task A_volume_deleted_before_its_snapshot_is_hidden_and_the_snapshot_still_restores()
    {
        var (v, r) = (Unique("pvc-d1"), Unique("pvc-d1r"));
        var volume = await driver.CreateVolumeAsync(v);
        await driver.WriteAsync(volume, "f", "kept");
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-d1"), volume);

        await driver.DeleteVolumeAsync(volume);
        Assert.DoesNotContain(volume, await driver.ListVolumeIdsAsync());
        Assert.Equal("deleted", await driver.GetPropertyAsync(volume, "zfs-csi:state"));
        Assert.Equal("no", await driver.GetPropertyAsync(volume, "mounted"));
        Assert.Contains(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume); // a retry is OK too

        var restored = await driver.RestoreAsync(r, snapshot.SnapshotId);
        Assert.Equal("kept", await driver.ReadAsync(restored.Volume.VolumeId, "f"));

        await driver.DeleteVolumeAsync(restored.Volume.VolumeId);
        Assert.NotEmpty(await driver.LeftoversAsync(v)); // the snapshot still holds it
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.Empty(await driver.SweptAsync(v, r));
    }

    [Fact]
    public async Task A_snapshot_deleted_before_its_restore_is_never_listed_and_the_restore_stays_writable()
    {
        var (v, r) = (Unique("pvc-d2"), Unique("pvc-d2r"));
        var volume = await driver.CreateVolumeAsync(v);
        await driver.WriteAsync(volume, "f", "one");
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-d2"), volume);
        var restored = (await driver.RestoreAsync(r, snapshot.SnapshotId)).Volume.VolumeId;

        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.DoesNotContain(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        await driver.WriteAsync(restored, "f", "two");
        Assert.Equal("two", await driver.ReadAsync(restored, "f"));
        Assert.Equal("one", await driver.ReadAsync(volume, "f"));

        await driver.DeleteVolumeAsync(restored);
        Assert.DoesNotContain(await driver.LeftoversAsync(v), n => n.Contains('@'));
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, r));
    }

    [Fact]
    public async Task A_restore_deleted_before_its_snapshot_and_volume_leaves_nothing()
    {
        var (v, r) = (Unique("pvc-d3"), Unique("pvc-d3r"));
        var volume = await driver.CreateVolumeAsync(v);
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-d3"), volume);
        var restored = (await driver.RestoreAsync(r, snapshot.SnapshotId)).Volume.VolumeId;

        await driver.DeleteVolumeAsync(restored);
        Assert.Contains(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, r));
    }

    [Fact]
    public async Task Volume_then_snapshot_then_restore_the_restore_last_frees_everything()
    {
        var (v, r) = (Unique("pvc-d4"), Unique("pvc-d4r"));
        var volume = await driver.CreateVolumeAsync(v);
        await driver.WriteAsync(volume, "f", "origin");
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-d4"), volume);
        var restored = (await driver.RestoreAsync(r, snapshot.SnapshotId)).Volume.VolumeId;

        await driver.DeleteVolumeAsync(volume);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.DoesNotContain(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        Assert.DoesNotContain(volume, await driver.ListVolumeIdsAsync());
        Assert.NotEmpty(await driver.LeftoversAsync(v)); // retained: the restore shares its blocks
        Assert.Equal("origin", await driver.ReadAsync(restored, "f"));
        await driver.WriteAsync(restored, "g", "still writable");

        await driver.DeleteVolumeAsync(restored);
        Assert.Empty(await driver.SweptAsync(v, r));
    }

    [Fact]
    public async Task A_clone_deleted_before_its_origin_volume_and_then_the_origin_leave_nothing()
    {
        var (v, c) = (Unique("pvc-d5"), Unique("pvc-d5c"));
        var volume = await driver.CreateVolumeAsync(v);
        var clone = (await driver.CloneAsync(c, volume)).Volume.VolumeId;
        await driver.DeleteVolumeAsync(clone);
        Assert.DoesNotContain(await driver.LeftoversAsync(v), n => n.Contains('@'));
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, c));
    }

    [Fact]
    public async Task An_origin_volume_deleted_before_its_clone_is_hidden_the_clone_stays_intact_and_the_clone_last_frees_both()
    {
        var (v, c) = (Unique("pvc-d6"), Unique("pvc-d6c"));
        var volume = await driver.CreateVolumeAsync(v);
        await driver.WriteAsync(volume, "f", "from the origin");
        var clone = (await driver.CloneAsync(c, volume)).Volume.VolumeId;

        await driver.DeleteVolumeAsync(volume);
        Assert.DoesNotContain(volume, await driver.ListVolumeIdsAsync());
        Assert.Contains(clone, await driver.ListVolumeIdsAsync());
        Assert.Equal("from the origin", await driver.ReadAsync(clone, "f"));
        await driver.WriteAsync(clone, "f", "clone changed");

        await driver.DeleteVolumeAsync(clone);
        Assert.Empty(await driver.SweptAsync(v, c));
    }

    [Fact]
    public async Task A_chain_volume_snapshot_restore_and_its_snapshot_deleted_front_to_back_leaves_nothing()
    {
        var (v, r) = (Unique("pvc-d7"), Unique("pvc-d7r"));
        var volume = await driver.CreateVolumeAsync(v);
        var s1 = await driver.SnapshotAsync(Unique("snapshot-d7a"), volume);
        var restored = (await driver.RestoreAsync(r, s1.SnapshotId)).Volume.VolumeId;
        var s2 = await driver.SnapshotAsync(Unique("snapshot-d7b"), restored);

        await driver.DeleteVolumeAsync(volume);
        await driver.DeleteSnapshotAsync(s1.SnapshotId);
        await driver.DeleteVolumeAsync(restored);
        Assert.Equal(
            [s2.SnapshotId],
            (await driver.ListSnapshotsAsync())
                .Select(s => s.SnapshotId)
                .Where(id => id.Contains(r, StringComparison.Ordinal) || id.Contains(v, StringComparison.Ordinal))
        );
        await driver.DeleteSnapshotAsync(s2.SnapshotId);
        Assert.Empty(await driver.SweptAsync(v, r));
    }

    [Fact]
    public async Task A_crash_between_retaining_steps_is_finished_by_the_retry()
    {
        // What a crash after the unmount but before the marker leaves: an unmounted ready volume.
        var v = Unique("pvc-d8");
        var volume = await driver.CreateVolumeAsync(v);
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-d8"), volume);
        await driver.ZfsLockedAsync("unmount", volume);

        await driver.DeleteVolumeAsync(volume);
        Assert.Equal("deleted", await driver.GetPropertyAsync(volume, "zfs-csi:state"));
        Assert.Equal("off", await driver.GetPropertyAsync(volume, "canmount"));
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.Empty(await driver.SweptAsync(v));
    }
}
