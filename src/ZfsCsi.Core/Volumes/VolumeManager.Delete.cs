using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>
    /// DeleteVolume (CSI spec): OK when the volume is gone or never was ours; the data of a dataset
    /// the driver did not create is never destroyed. Lifetimes are independent (Kubernetes users
    /// expect a VolumeSnapshot to outlive its PVC): a volume whose CSI snapshots or clones still need
    /// its blocks is retained, unmounted, canmount=off and marked deleted, never listed again, and
    /// destroyed by <see cref="SweepAsync"/> once the last of them is gone. The delete does its own
    /// work only (O(this volume's snapshots)) and asks for a sweep, which runs in the background. Snapshots of other tools
    /// never block a delete: they go with the volume. A dataset in use stays as it was and the caller
    /// gets FAILED_PRECONDITION; an unreachable pool is UNAVAILABLE, never OK.
    /// </summary>
    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        if (ParseId(id) is not { } volumeId)
        {
            _log.Information("Volume id {VolumeId} is not one of ours; nothing to delete", id);
            return;
        }
        IReadOnlyList<DatasetProperties> rows;
        try
        {
            rows = await zfs.GetRecursiveAsync(volumeId.Dataset, Inventory.Properties, ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            await EnsureParentAsync(ct).ConfigureAwait(false);
            return;
        }
        var props = rows.FirstOrDefault(r => r.Name == volumeId.Value);
        if (props is null)
        {
            return;
        }
        if (!IsOurs(props))
        {
            _log.Warning(
                "Dataset {Dataset} has no zfs-csi marker; refusing to destroy data the driver did not create",
                volumeId.Value
            );
            return;
        }
        // destroy -r takes every dataset below too: one made by hand under a volume (with its data
        // and snapshots) is not ours to destroy, so the volume stays until someone moves it away.
        var children = rows.Where(r => !r.IsSnapshot && r.Name != volumeId.Value).Select(r => r.Name).ToList();
        if (children.Count > 0)
        {
            throw new FailedPreconditionException(
                $"volume {volumeId} holds datasets zfs-csi did not create ({string.Join(", ", children.Take(3))}); move or destroy them, then retry"
            );
        }
        var needed = rows.Where(r =>
                r.IsSnapshot
                && Inventory.DatasetOf(r.Name) == volumeId.Value
                && (Inventory.IsLiveCsiSnapshot(r) || Inventory.IsDeferred(r))
            )
            .ToList();
        try
        {
            if (needed.Count == 0)
            {
                try
                {
                    await zfs.DestroyAsync(volumeId.Dataset, ct).ConfigureAwait(false);
                    _log.Information("Destroyed dataset {Dataset}", volumeId.Value);
                    // An encrypted volume's key goes with it (README, "Encryption"): nothing can use it now.
                    await RemoveUnreferencedKeysAsync(volumeId.Dataset.Leaf, olderThan: null, ct).ConfigureAwait(false);
                }
                catch (DatasetHasDependentsException e)
                {
                    // A snapshot of another tool has a clone (or one appeared since we read): keep the volume until it is gone.
                    _log.Information(
                        "Dataset {Dataset} has dependent clones ({Reason}); retaining it as deleted",
                        volumeId.Value,
                        e.StandardError.Trim()
                    );
                    await RetainAsync(volumeId, props, ct).ConfigureAwait(false);
                }
            }
            else
            {
                _log.Information(
                    "Volume {VolumeId} has {Count} snapshots or clone origins still in use; retaining its dataset as deleted",
                    volumeId.Value,
                    needed.Count
                );
                await RetainAsync(volumeId, props, ct).ConfigureAwait(false);
                await DiscardUnsnapshottedAsync(volumeId, rows, ct).ConfigureAwait(false);
            }
        }
        catch (DatasetNotFoundException)
        {
            // Gone between our read and the destroy: the goal is reached.
        }
        catch (DatasetBusyException e)
        {
            throw new FailedPreconditionException(
                $"volume {volumeId} is in use on the storage host (a process has files open under {props.Value("mountpoint")}); stop it and retry. zfs said: {e.StandardError.Trim()}"
            );
        }
        // A clone going may free its origin's kept volume: the sweep sees to it, off this RPC.
        RequestSweep();
    }

    /// <summary>
    /// A retained volume's data written since its latest snapshot is what the CO asked to delete and
    /// nothing can reach it any more: a rollback to that snapshot frees it, so a retained volume costs
    /// only the blocks its snapshots and clones already hold. Best effort: zfs refuses (and changes
    /// nothing) if a newer snapshot appeared, and the volume is then kept as it is.
    /// </summary>
    private async Task DiscardUnsnapshottedAsync(
        VolumeId volume,
        IReadOnlyList<DatasetProperties> rows,
        CancellationToken ct
    )
    {
        // By creation (seconds), ties in listing order (zfs lists a dataset's snapshots oldest first).
        var latest = rows.Where(r => r.IsSnapshot && Inventory.DatasetOf(r.Name) == volume.Value)
            .OrderBy(r => r.Bytes("creation") ?? 0)
            .LastOrDefault();
        if (latest is null || !SnapshotName.TryParse(latest.Name, out var snapshot))
        {
            return;
        }
        try
        {
            await zfs.RollbackAsync(snapshot, ct).ConfigureAwait(false);
        }
        catch (ZfsCsiException e)
        {
            _log.Information(
                "Retained volume {VolumeId} keeps its unsnapshotted data: rollback to {Snapshot} failed: {Reason}",
                volume.Value,
                snapshot.Value,
                e.Message
            );
        }
    }

    /// <summary>
    /// Hides a deleted volume whose blocks are still needed. Unmount first (busy means in use: the
    /// caller gets FAILED_PRECONDITION and nothing changed), then the marker, then canmount=off so an
    /// import never mounts it again. Each step is idempotent: a crash leaves a state DeleteVolume's
    /// retry finishes. Only the blocks snapshots and clones share stay allocated: a thick volume's
    /// reservation is released.
    /// </summary>
    private async Task RetainAsync(VolumeId volume, DatasetProperties props, CancellationToken ct)
    {
        await zfs.UnmountAsync(volume.Dataset, ct).ConfigureAwait(false);
        if (props.LocalValue(Markers.State) != Markers.StateDeleted)
        {
            await zfs.SetAsync(volume.Dataset, Markers.State, Markers.StateDeleted, ct).ConfigureAwait(false);
        }
        await zfs.SetAsync(volume.Dataset, "canmount", "off", ct).ConfigureAwait(false);
        // A thick volume's reservation would keep holding pool space nobody can use any more.
        foreach (var reservation in new[] { "refreservation", "reservation" })
        {
            if (props.LocalValue(reservation) is { } r && ZfsParser.ParseBytes(r) is > 0)
            {
                await zfs.SetAsync(volume.Dataset, reservation, "none", ct).ConfigureAwait(false);
            }
        }
    }
}
