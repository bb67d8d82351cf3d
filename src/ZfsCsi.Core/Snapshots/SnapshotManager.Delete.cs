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
        var props = await zfs.TryGetAsync(snapshotId.Name, Inventory.Properties, ct).ConfigureAwait(false);
        if (props is null)
        {
            await volumes.EnsureParentAsync(ct).ConfigureAwait(false);
            return;
        }
        if (!Inventory.IsOurSnapshot(props))
        {
            _log.Warning("Snapshot {SnapshotId} has no zfs-csi marker of its own; refusing to destroy a snapshot the driver did not take", id);
            return;
        }
        await DestroyAsync(snapshotId, props, ct).ConfigureAwait(false);
        await volumes.SweepAsync(ct).ConfigureAwait(false);
    }

    private async Task DestroyAsync(SnapshotId id, DatasetProperties props, CancellationToken ct)
    {
        if (Inventory.IsDeferred(props))
        {
            return;
        }
        try
        {
            await zfs.DestroySnapshotDeferredAsync(id.Name, ct).ConfigureAwait(false);
            _log.Information("Destroyed snapshot {SnapshotId} (deferred while clones of it exist)", id.Value);
        }
        catch (DatasetNotFoundException)
        {
            // Gone between our read and the destroy: the goal is reached.
        }
    }
}
