using Csi.V1;
using Grpc.Core;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>
/// A volume deleted while its snapshots or clones still need it is kept, hidden. Its name is free
/// again all the same (the CO was told the delete succeeded): a CreateVolume of that name moves
/// the kept dataset aside and makes a new, empty volume; the old snapshots keep their ids, restore,
/// list and delete as before, and the sweep removes the moved dataset once nothing needs it.
/// </summary>
public sealed class NameReuseTests(SnapshotFixture driver) : IClassFixture<SnapshotFixture>
{
    private GroupController.GroupControllerClient Groups => driver.Client.GroupController;

    /// <summary>Datasets moved aside for volume name <paramref name="name"/> (plain names keep their leaf).</summary>
    private async Task<IReadOnlyList<string>> RetiredAsync(string name) =>
        (await driver.PoolNamesAsync())
            .Where(n =>
                n.StartsWith($"{driver.Pool.Parent}/Deleted-", StringComparison.Ordinal)
                && (
                    n.EndsWith("-" + name, StringComparison.Ordinal)
                    || n.Contains("-" + name + "@", StringComparison.Ordinal)
                )
            )
            .ToList();

    private async Task<IReadOnlyList<Csi.V1.Snapshot>> ListByIdAsync(string snapshotId) =>
        (await driver.Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = snapshotId }))
            .Entries.Select(e => e.Snapshot)
            .ToList();

    [Fact]
    public async Task A_deleted_volume_kept_for_its_snapshot_gives_its_name_back_and_the_snapshot_keeps_working()
    {
        var (n, r) = (Unique("pvc-reuse"), Unique("pvc-reuse-r"));
        var first = await driver.CreateVolumeAsync(n);
        await driver.WriteAsync(first, "f", "old");
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-reuse"), first);
        await driver.DeleteVolumeAsync(first);
        Assert.Equal("deleted", await driver.GetPropertyAsync(first, "zfs-csi:state"));

        // The same name again: the same id (names map to datasets), a new empty volume.
        var second = await driver.CreateVolumeAsync(n);
        Assert.Equal(first, second);
        Assert.Equal("ready", await driver.GetPropertyAsync(second, "zfs-csi:state"));
        Assert.False(File.Exists(Path.Combine(await driver.GetPropertyAsync(second, "mountpoint"), "f")));
        var retired = Assert.Single(await RetiredAsync(n), x => !x.Contains('@'));
        Assert.Equal("deleted", await driver.GetPropertyAsync(retired, "zfs-csi:state"));
        Assert.Equal("off", await driver.GetPropertyAsync(retired, "canmount"));
        Assert.Equal("no", await driver.GetPropertyAsync(retired, "mounted"));
        Assert.Equal([second], (await driver.ListVolumeIdsAsync()).Where(v => v.Contains(n)));
        await driver.CreateVolumeAsync(n); // an idempotent retry of the new one

        // The old snapshot keeps the id the CO was given: listed, by id, by source, with its source.
        var listed = Assert.Single(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        Assert.Equal(first, listed.SourceVolumeId);
        Assert.Equal(snapshot.SizeBytes, listed.SizeBytes);
        Assert.Equal(snapshot.SnapshotId, Assert.Single(await ListByIdAsync(snapshot.SnapshotId)).SnapshotId);
        Assert.Contains(await driver.ListSnapshotsAsync(first), s => s.SnapshotId == snapshot.SnapshotId);
        Assert.DoesNotContain(await driver.ListSnapshotsAsync(), s =>
            s.SnapshotId.Contains("Deleted-", StringComparison.Ordinal)
        );

        // It restores the old data; the new volume is a volume of its own.
        var restored = (await driver.RestoreAsync(r, snapshot.SnapshotId)).Volume.VolumeId;
        Assert.Equal("old", await driver.ReadAsync(restored, "f"));
        await driver.WriteAsync(second, "f", "new");
        Assert.Equal("old", await driver.ReadAsync(restored, "f"));

        // Deleting the snapshot: it is no longer listed, and the moved dataset stays while the restore needs it ...
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.DoesNotContain(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        Assert.Empty(await ListByIdAsync(snapshot.SnapshotId));
        Assert.Contains(retired, await driver.PoolNamesAsync());
        Assert.Equal("new", await driver.ReadAsync(second, "f"));

        // ... and the sweep removes it with the last dependent.
        await driver.DeleteVolumeAsync(restored);
        Assert.Empty(await SnapshotFixture.AfterSweepAsync(() => RetiredAsync(n)));
        Assert.Equal("new", await driver.ReadAsync(second, "f"));
        await driver.DeleteVolumeAsync(second);
        Assert.Empty(await driver.SweptAsync(n, r));
    }

    [Fact]
    public async Task Deleting_the_snapshot_of_a_moved_volume_with_nothing_else_needing_it_sweeps_it_at_once()
    {
        var n = Unique("pvc-reuse-s");
        var first = await driver.CreateVolumeAsync(n);
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-reuse-s"), first);
        await driver.DeleteVolumeAsync(first);
        var second = await driver.CreateVolumeAsync(n);
        Assert.NotEmpty(await RetiredAsync(n));

        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId); // a retry is OK too

        Assert.Empty(await SnapshotFixture.AfterSweepAsync(() => RetiredAsync(n)));
        Assert.Equal([second], (await driver.ListVolumeIdsAsync()).Where(v => v.Contains(n)));
        await driver.DeleteVolumeAsync(second);
        Assert.Empty(await driver.SweptAsync(n));
    }

    [Fact]
    public async Task A_delete_that_crashed_half_way_through_hiding_the_volume_is_finished_before_it_is_moved()
    {
        // What a crash in DeleteVolume right after the state marker leaves: still canmount=on, mounted.
        var n = Unique("pvc-reuse-h");
        var first = await driver.CreateVolumeAsync(n);
        await driver.WriteAsync(first, "f", "old");
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-reuse-h"), first);
        await Sh.CheckAsync("zfs", "set", "zfs-csi:state=deleted", first);

        var second = await driver.CreateVolumeAsync(n);

        var retired = Assert.Single(await RetiredAsync(n), x => !x.Contains('@'));
        Assert.Equal("off", await driver.GetPropertyAsync(retired, "canmount"));
        Assert.Equal("no", await driver.GetPropertyAsync(retired, "mounted"));
        Assert.Equal("yes", await driver.GetPropertyAsync(second, "mounted"));
        Assert.False(File.Exists(Path.Combine(await driver.GetPropertyAsync(second, "mountpoint"), "f")));
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.Empty(await SnapshotFixture.AfterSweepAsync(() => RetiredAsync(n)));
        await driver.DeleteVolumeAsync(second);
    }

    [Fact]
    public async Task A_create_that_crashed_right_after_the_move_is_finished_by_its_retry()
    {
        // What a crash between the rename and the create leaves: the name free, the old volume moved aside.
        var (n, r) = (Unique("pvc-reuse-c"), Unique("pvc-reuse-cr"));
        var first = await driver.CreateVolumeAsync(n);
        await driver.WriteAsync(first, "f", "old");
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-reuse-c"), first);
        await driver.DeleteVolumeAsync(first);
        await driver.ZfsLockedAsync("rename", first, $"{driver.Pool.Parent}/Deleted-1-{n}");

        var second = await driver.CreateVolumeAsync(n);
        Assert.Equal(first, second);

        var restored = (await driver.RestoreAsync(r, snapshot.SnapshotId)).Volume.VolumeId;
        Assert.Equal("old", await driver.ReadAsync(restored, "f"));
        // Restored from where the snapshot now is, under the id the CO knows.
        Assert.Equal(
            $"{driver.Pool.Parent}/Deleted-1-{snapshot.SnapshotId[(driver.Pool.Parent.Length + 1)..]}",
            await driver.GetPropertyAsync(restored, "origin")
        );
        await driver.DeleteVolumeAsync(restored);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.Empty(await SnapshotFixture.AfterSweepAsync(() => RetiredAsync(n)));
        await driver.DeleteVolumeAsync(second);
        Assert.Empty(await driver.SweptAsync(n, r));
    }

    [Fact]
    public async Task Reusing_a_name_while_a_clone_of_the_kept_volume_is_mounted_moves_it_or_says_why_and_never_harms_the_clone()
    {
        // zfs-fuse 0.7 sometimes refuses to rename a dataset while a clone of one of its snapshots
        // is mounted ("dataset is busy", not every time: measured both ways on this machine);
        // OpenZFS renames it. Either way the answer must be one of the two and the clone untouched.
        var (n, c) = (Unique("pvc-reuse-b"), Unique("pvc-reuse-bc"));
        var first = await driver.CreateVolumeAsync(n);
        await driver.WriteAsync(first, "f", "kept data");
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-reuse-b"), first);
        var clone = (await driver.RestoreAsync(c, snapshot.SnapshotId)).Volume.VolumeId;
        await driver.DeleteVolumeAsync(first);

        string second;
        try
        {
            second = await driver.CreateVolumeAsync(n);
            Assert.NotEmpty(await RetiredAsync(n));
        }
        catch (RpcException e)
        {
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.Contains("clone", e.Status.Detail);
            Assert.Equal("deleted", await driver.GetPropertyAsync(first, "zfs-csi:state"));
            Assert.Empty(await SnapshotFixture.AfterSweepAsync(() => RetiredAsync(n)));
            Assert.DoesNotContain(first, await driver.ListVolumeIdsAsync());
            // Once the clone is gone the name can be used again.
            await driver.DeleteVolumeAsync(clone);
            second = await CreateRetryingAsync(n);
            clone = "";
        }
        Assert.Equal(first, second);
        Assert.False(
            File.Exists(Path.Combine(await driver.GetPropertyAsync(second, "mountpoint"), "f")),
            "the reused name must be a new, empty volume"
        );
        if (clone.Length > 0)
        {
            Assert.Equal("kept data", await driver.ReadAsync(clone, "f"));
            await driver.DeleteVolumeAsync(clone);
        }
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        Assert.Empty(await SnapshotFixture.AfterSweepAsync(() => RetiredAsync(n)));
        await driver.DeleteVolumeAsync(second);
        Assert.Empty(await driver.SweptAsync(n, c));
    }

    [Fact]
    public async Task A_group_snapshot_member_on_a_moved_volume_keeps_its_id_and_goes_with_the_group()
    {
        var (a, b) = (Unique("pvc-reuse-ga"), Unique("pvc-reuse-gb"));
        var va = await driver.CreateVolumeAsync(a);
        var vb = await driver.CreateVolumeAsync(b);
        var create = new CreateVolumeGroupSnapshotRequest { Name = Unique("groupsnapshot-reuse") };
        create.SourceVolumeIds.Add([va, vb]);
        var group = (await Groups.CreateVolumeGroupSnapshotAsync(create)).GroupSnapshot;
        var memberIds = group.Snapshots.Select(s => s.SnapshotId).Order(StringComparer.Ordinal).ToList();
        await driver.DeleteVolumeAsync(va);
        Assert.Equal(va, await driver.CreateVolumeAsync(a));

        var get = new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
        get.SnapshotIds.Add(memberIds);
        var again = (await Groups.GetVolumeGroupSnapshotAsync(get)).GroupSnapshot;
        Assert.Equal(memberIds, again.Snapshots.Select(s => s.SnapshotId).Order(StringComparer.Ordinal));
        Assert.Equal(
            (await Groups.CreateVolumeGroupSnapshotAsync(create)).GroupSnapshot.GroupSnapshotId,
            group.GroupSnapshotId
        ); // idempotent retry

        var delete = new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
        delete.SnapshotIds.Add(memberIds);
        await Groups.DeleteVolumeGroupSnapshotAsync(delete);
        Assert.Empty(await SnapshotFixture.AfterSweepAsync(() => RetiredAsync(a)));
        Assert.DoesNotContain(await driver.ListSnapshotsAsync(), s => memberIds.Contains(s.SnapshotId));
        await driver.DeleteVolumeAsync(va);
        await driver.DeleteVolumeAsync(vb);
        Assert.Empty(await driver.SweptAsync(a, b));
    }

    /// <summary>
    /// zfs-fuse may still call the dataset busy for a few seconds after the clone's unmount; the CO
    /// retries CreateVolume, and so does this.
    /// </summary>
    private async Task<string> CreateRetryingAsync(string name)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await driver.CreateVolumeAsync(name);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && attempt < 20)
            {
                await Task.Delay(500);
            }
        }
    }
}
