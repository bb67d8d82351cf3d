using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Snapshots;

public sealed partial class SnapshotManager
{
    /// <summary>
    /// DeleteSnapshot (CSI spec): OK when the snapshot is gone, never ours, or foreign (nothing else
    /// is touched, not its volume, not its parent). A deferred destroy: at once, or, when volumes
    /// were made from it, when the last of them is deleted; until then it is never listed. Then the
    /// sweep, which may free a deleted volume this snapshot kept.
    /// </summary>
    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        if (ParseId(id) is not { } snapshotId)
        {
            _log.Information("Snapshot id {SnapshotId} is not one of ours; nothing to delete", id);
            return;
        }
        for (var attempt = 0; ; attempt++)
        {
            // Its volume may have been deleted and moved aside when the name was used again: the
            // snapshot is then found there, under the same id.
            var rows = await volumes.FindSnapshotRowsAsync(snapshotId, ct).ConfigureAwait(false);
            var props = rows?.FirstOrDefault(r => r.IsSnapshot);
            if (props is null)
            {
                if (attempt == 0)
                {
                    return;
                }
                break;
            }
            if (!Inventory.IsOurSnapshot(props))
            {
                _log.Warning("Snapshot {SnapshotId} has no zfs-csi marker of its own; refusing to destroy a snapshot the driver did not take", id);
                return;
            }
            // Gone between our read and the destroy: gone for good, or moved with its volume by a
            // CreateVolume of that volume's name; one more look tells which.
            if (await DestroyAsync(props, ct).ConfigureAwait(false) || attempt > 0)
            {
                break;
            }
        }
        await volumes.SweepAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Deferred destroy of one of our snapshots (nothing to do when already deferred); false when it was not there any more.</summary>
    private async Task<bool> DestroyAsync(DatasetProperties props, CancellationToken ct)
    {
        if (Inventory.IsDeferred(props))
        {
            return true;
        }
        if (!SnapshotName.TryParse(props.Name, out var name))
        {
            throw new InvalidOperationException($"{props.Name} is not a snapshot name");
        }
        try
        {
            await zfs.DestroySnapshotDeferredAsync(name, ct).ConfigureAwait(false);
            _log.Information("Destroyed snapshot {Snapshot} (deferred while clones of it exist)", name.Value);
            return true;
        }
        catch (DatasetNotFoundException)
        {
            return false;
        }
    }
}
