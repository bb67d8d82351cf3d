using System.Globalization;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>Starts the leaf of a retained volume moved aside. Upper case: no name mapping produces it, so it is never a volume id.</summary>
    /// <summary>The leaf a retired dataset had as a volume, or null when <paramref name="leaf"/> is not one of <see cref="SnapshotNaming.RetiredLeaf"/>.</summary>
    internal static string? OriginalLeaf(string leaf)
    {
        if (!leaf.StartsWith(SnapshotNaming.RetiredPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var dash = leaf.IndexOf('-', SnapshotNaming.RetiredPrefix.Length);
        return
            dash > SnapshotNaming.RetiredPrefix.Length
            && leaf[SnapshotNaming.RetiredPrefix.Length..dash].All(char.IsAsciiDigit)
            && VolumeNaming.IsPlain(leaf[(dash + 1)..])
            ? leaf[(dash + 1)..]
            : null;
    }

    /// <summary>
    /// The volume id the CO knows a dataset under the parent by: a volume's own, or, for a retained
    /// volume moved aside (<see cref="RetireAsync"/>), the id it had. Its CSI snapshots keep the
    /// ids the CO was given (<c>&lt;that id&gt;@&lt;leaf&gt;</c>) wherever the dataset now is. Null for
    /// anything else.
    /// </summary>
    public VolumeId? CsiVolumeOf(string dataset)
    {
        if (ParseId(dataset) is { } id)
        {
            return id;
        }
        return
            DatasetName.TryParse(dataset, out var name, out _)
            && name.IsDirectChildOf(Parent)
            && OriginalLeaf(name.Leaf) is { } leaf
            ? ParseId($"{Parent.Value}/{leaf}")
            : null;
    }

    /// <summary>A retained volume moved aside, never a live one.</summary>
    internal bool IsRetired(string dataset) => ParseId(dataset) is null && CsiVolumeOf(dataset) is not null;

    /// <summary>
    /// The retired datasets that were once the volume <paramref name="volume"/> (one per time its
    /// name was used again while the old one was still needed), from one <c>zfs get -d 1</c>.
    /// </summary>
    private async Task<IReadOnlyList<DatasetName>> RetiredAsync(VolumeId volume, CancellationToken ct)
    {
        IReadOnlyList<DatasetProperties> children;
        try
        {
            children = await zfs.GetChildrenAsync(Parent, [Markers.State], ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            await EnsureParentAsync(ct).ConfigureAwait(false);
            return [];
        }
        return children
            .Where(c => IsRetired(c.Name) && CsiVolumeOf(c.Name) == volume)
            .Select(c => DatasetName.Parse(c.Name))
            .ToList();
    }

    /// <summary>
    /// The rows (its dataset's, its own) of the snapshot a CSI snapshot id names: at that name, or,
    /// when its volume was deleted and the name used again, on the retired dataset the old volume
    /// was moved to. A live CSI snapshot wins over a deleted one of the same id; null when neither
    /// exists. The parent is checked when nothing is found (an exported pool is UNAVAILABLE).
    /// </summary>
    public async Task<IReadOnlyList<DatasetProperties>?> FindSnapshotRowsAsync(SnapshotId id, CancellationToken ct)
    {
        // One get of two names, O(1) in the inventory; only a snapshot not live at its own name
        // (a deleted id, or one whose volume name was used again: never the case in Kubernetes,
        // whose names are unique) costs a listing of the parent's children, not of their snapshots.
        var direct = await zfs.GetExistingAsync([id.Volume.Value, id.Value], Inventory.Properties, ct)
            .ConfigureAwait(false);
        if (direct.FirstOrDefault(r => r.Name == id.Value) is { } found && Inventory.IsLiveCsiSnapshot(found))
        {
            return direct;
        }
        if (direct.Count == 0)
        {
            await EnsureParentAsync(ct).ConfigureAwait(false);
        }
        foreach (var retired in await RetiredAsync(id.Volume, ct).ConfigureAwait(false))
        {
            if (!SnapshotName.TryCreate(retired, id.Leaf, out var moved, out _))
            {
                continue;
            }
            var rows = await zfs.GetExistingAsync([retired.Value, moved.Value], Inventory.Properties, ct)
                .ConfigureAwait(false);
            if (
                rows.FirstOrDefault(r => r.Name == moved.Value) is { } snapshot
                && Inventory.IsLiveCsiSnapshot(snapshot)
            )
            {
                return rows;
            }
        }
        return direct.Any(r => r.Name == id.Value) ? direct : null;
    }

    /// <summary>
    /// The rows of <paramref name="volume"/>'s dataset and its snapshots, and of each retained
    /// dataset that was once that volume id (<see cref="RetiredAsync"/>) and its snapshots: every
    /// snapshot whose CSI id names this source volume. O(that volume's snapshots) plus one listing
    /// of the parent's children (not of their snapshots).
    /// </summary>
    public async Task<IReadOnlyList<DatasetProperties>> SnapshotRowsOfAsync(VolumeId volume, CancellationToken ct)
    {
        var rows = new List<DatasetProperties>();
        foreach (var dataset in (await RetiredAsync(volume, ct).ConfigureAwait(false)).Prepend(volume.Dataset))
        {
            try
            {
                rows.AddRange(await zfs.GetToDepthAsync(dataset, Inventory.Properties, 1, ct).ConfigureAwait(false));
            }
            catch (DatasetNotFoundException)
            {
                // Not there (never made, or deleted since the listing): no snapshots of it.
            }
        }
        return rows;
    }

    /// <summary>Ours, for this very name, and deleted: a retained volume that blocks the name's dataset.</summary>
    private static bool IsDeletedNamesake(DatasetProperties existing, string name) =>
        IsOurs(existing)
        && Markers.DecodeName(existing.LocalValue(Markers.CsiName)) == name
        && existing.LocalValue(Markers.State) == Markers.StateDeleted;

    /// <summary>
    /// CreateVolume of a name whose earlier volume was deleted but is retained because CSI snapshots
    /// or clones still need its blocks. The CO was told the delete succeeded (CSI spec, DeleteVolume),
    /// so the name is free for a new, empty volume: the retained dataset is moved aside to a
    /// <see cref="SnapshotNaming.RetiredLeaf"/>, as a deleted snapshot is (SnapshotManager.ClearLeafAsync). First
    /// the hiding steps of DeleteVolume run again (each idempotent: a crashed delete may have left
    /// them half done, rollback included), then one atomic <c>zfs rename</c>. A crash before the rename leaves the
    /// dataset where this CreateVolume's retry moves it; after it, the name is free and the moved
    /// dataset is a retained volume like any other, destroyed by the sweep once nothing needs it.
    /// Clones keep working (their origin follows the rename) and the snapshots keep their ids.
    /// </summary>
    private async Task RetireAsync(DatasetName dataset, DatasetProperties props, string name, CancellationToken ct)
    {
        var volume = new VolumeId(dataset);
        await RetainAsync(volume, props, ct).ConfigureAwait(false);
        await DiscardUnsnapshottedAsync(
                volume,
                await zfs.GetRecursiveAsync(dataset, Inventory.Properties, ct).ConfigureAwait(false),
                ct
            )
            .ConfigureAwait(false);
        // Never plain (never listed, never an id), unique per move, and it keeps the volume's own leaf,
        // from which its snapshots' ids are told (CsiVolumeOf).
        var target = Parent.Child(SnapshotNaming.RetiredLeaf(dataset.Leaf, _clock.GetUtcNow()));
        try
        {
            await zfs.RenameAsync(dataset, target, ct).ConfigureAwait(false);
        }
        catch (DatasetBusyException e)
        {
            // Not ALREADY_EXISTS (an incompatible volume of that name): nothing of this name is
            // live, and the condition clears when those clones are unmounted (CSI spec, Error
            // Scheme: FAILED_PRECONDITION, the caller may retry after fixing the state).
            throw new FailedPreconditionException(
                $"volume '{Printable.Of(name)}' was deleted, but its dataset {dataset} is kept for the clones of its snapshots and zfs cannot move it aside now "
                    + $"({e.StandardError.Trim()}; zfs-fuse refuses while such a clone is mounted). Delete those clones or use another volume name"
            );
        }
        _log.Information(
            "Moved retained dataset {Dataset} of a deleted volume aside to {RetiredDataset}: volume name {VolumeName} is used again",
            dataset.Value,
            target.Value,
            name
        );
        await RemountReadyVolumesAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// zfs rename unmounts the renamed dataset's dependents (the clones of its snapshots: live
    /// volumes) and mounts them again; zfs-fuse has been seen to leave such a clone unmounted
    /// (its files vanished from its mountpoint). An unmounted ready volume's directory belongs to
    /// the parent, so every ready volume that is not mounted is mounted again here.
    /// </summary>
    private async Task RemountReadyVolumesAsync(CancellationToken ct)
    {
        IReadOnlyList<DatasetProperties> rows;
        try
        {
            rows = await zfs.GetChildrenAsync(Parent, VolumeProperties, ct).ConfigureAwait(false);
        }
        catch (ZfsCsiException e)
        {
            _log.Warning(
                "After moving a kept volume aside, cannot list {ParentDataset} to check its volumes are mounted: {Reason}",
                Parent.Value,
                e.Message
            );
            return;
        }
        foreach (
            var volume in rows.Where(r =>
                !r.IsSnapshot && IsReady(r) && r.Value("mounted") != "yes" && ParseId(r.Name) is not null
            )
        )
        {
            try
            {
                await zfs.MountAsync(DatasetName.Parse(volume.Name), ct).ConfigureAwait(false);
                _log.Warning(
                    "Volume {VolumeId} was left unmounted by zfs rename of its origin; mounted it again",
                    volume.Name
                );
            }
            catch (ZfsCsiException e)
            {
                _log.Error(
                    "Volume {VolumeId} is not mounted after zfs rename of its origin and cannot be mounted: {Reason}",
                    volume.Name,
                    e.Message
                );
            }
        }
    }
}
