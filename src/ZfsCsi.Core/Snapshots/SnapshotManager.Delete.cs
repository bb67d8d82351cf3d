using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Snapshots;

public sealed partial class SnapshotManager
{
    /// <summary>
    /// DeleteSnapshot (CSI spec): OK when the snapshot is gone, never ours, or foreign (nothing else
    /// is touched, not its volume, not its parent). A deferred destroy: at once, or, when volumes
    /// were made from it, when the last of them is deleted; until then it is never listed. Then a
    /// sweep is asked for (it runs in the background): it may free a deleted volume this snapshot
    /// kept, and it removes the name's claim.
    /// </summary>
    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        if (ParseId(id) is not { } snapshotId)
        {
            _log.Information("Snapshot id {SnapshotId} is not one of ours; nothing to delete", id);
            return;
        }
        // Its volume may have been deleted and moved aside when the name was used again: the
        // snapshot is then found there, under the same id.
        var props = (await volumes.FindSnapshotRowsAsync(snapshotId, ct).ConfigureAwait(false))?.FirstOrDefault(r =>
            r.IsSnapshot
        );
        if (props is null)
        {
            return;
        }
        if (!Inventory.IsOurSnapshot(props))
        {
            _log.Warning(
                "Snapshot {SnapshotId} has no zfs-csi marker of its own; refusing to destroy a snapshot the driver did not take",
                id
            );
            return;
        }
        await DestroyAsync(snapshotId, props, ct).ConfigureAwait(false);
        volumes.RequestSweep();
    }

    /// <summary>
    /// Deferred destroy of the snapshot <paramref name="props"/> (read for <paramref name="id"/>),
    /// wherever it is; nothing to do when already deferred. When it is gone by the time of the
    /// destroy, it went for good, or moved with its volume because a CreateVolume used that
    /// volume's name again (VolumeManager.RetireAsync): one more look under its id tells which.
    /// </summary>
    private async Task DestroyAsync(SnapshotId id, DatasetProperties props, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (Inventory.IsDeferred(props) || !SnapshotName.TryParse(props.Name, out var name))
            {
                return;
            }
            try
            {
                await zfs.DestroySnapshotDeferredAsync(name, ct).ConfigureAwait(false);
                _log.Information(
                    "Destroyed snapshot {SnapshotId} at {Snapshot} (deferred while clones of it exist)",
                    id.Value,
                    name.Value
                );
                return;
            }
            catch (DatasetNotFoundException) when (attempt == 0)
            {
                var moved = (await volumes.FindSnapshotRowsAsync(id, ct).ConfigureAwait(false))?.FirstOrDefault(r =>
                    r.IsSnapshot
                );
                if (moved is null || moved.Name == props.Name || !Inventory.IsOurSnapshot(moved))
                {
                    return;
                }
                props = moved;
            }
            catch (DatasetNotFoundException)
            {
                // Gone between our read and the destroy: the goal is reached.
                return;
            }
        }
    }
}
