using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Snapshots;

public sealed partial class SnapshotManager
{
    /// <summary>
    /// ListSnapshots (CSI spec): live snapshots of ours in id order. By snapshot id: one zfs process
    /// of two names (two more, small, when it is not at its own name: see
    /// <see cref="VolumeManager.FindSnapshotRowsAsync"/>). By source volume: that volume and its
    /// snapshots, and the retained datasets that were once that volume id (a listing of the
    /// parent's children, not of their snapshots). Unfiltered: one <c>zfs get -d 2</c> of the
    /// parent, the volumes and their snapshots and nothing below (the snapshot-name claims live
    /// deeper). zfs visits every snapshot for every page, so a page costs the whole listing:
    /// ZFS has no cursor. Unknown or foreign ids and volumes give an empty list, not an error.
    /// Paging continues after the last id returned.
    /// </summary>
    public async Task<SnapshotPage> ListAsync(
        int maxEntries,
        string? startingToken,
        string? snapshotId,
        string? sourceVolumeId,
        CancellationToken ct
    )
    {
        PageToken.CheckMaxEntries(maxEntries);
        PageToken.Read(startingToken); // a token we never issued is ABORTED before anything is read
        IReadOnlyList<DatasetProperties> rows;
        if (!string.IsNullOrEmpty(snapshotId))
        {
            if (
                ParseId(snapshotId) is not { } id
                || (!string.IsNullOrEmpty(sourceVolumeId) && sourceVolumeId != id.Volume.Value)
            )
            {
                return new SnapshotPage([], null);
            }
            rows = await volumes.FindSnapshotRowsAsync(id, ct).ConfigureAwait(false) ?? [];
        }
        else if (!string.IsNullOrEmpty(sourceVolumeId))
        {
            if (volumes.ParseId(sourceVolumeId) is not { } volume)
            {
                return new SnapshotPage([], null);
            }
            // Snapshots of an earlier volume of this id, deleted and moved aside when its name was
            // used again, are the CO's snapshots of this source volume id too.
            rows = await volumes.SnapshotRowsOfAsync(volume, ct).ConfigureAwait(false);
        }
        else
        {
            rows = await ListRowsAsync(Parent, ct).ConfigureAwait(false);
        }
        var datasets = rows.Where(r => !r.IsSnapshot).ToDictionary(r => r.Name, StringComparer.Ordinal);
        var (page, next) = PageToken.Page(
            rows.Where(r => Inventory.IsLiveCsiSnapshot(r) && IdOf(r.Name) is not null)
                .Select(r => ToSnapshot(r, datasets.GetValueOrDefault(Inventory.DatasetOf(r.Name)))),
            s => s.Id.Value,
            startingToken,
            maxEntries
        );
        return new SnapshotPage(page, next);
    }

    /// <summary>The parent, its children and their snapshots (two levels, nothing deeper); empty when it does not exist (the parent checked).</summary>
    private async Task<IReadOnlyList<DatasetProperties>> ListRowsAsync(DatasetName dataset, CancellationToken ct)
    {
        try
        {
            return await zfs.GetToDepthAsync(dataset, Inventory.Properties, 2, ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            await volumes.EnsureParentAsync(ct).ConfigureAwait(false);
            return [];
        }
    }

    /// <summary>
    /// The id the CO knows a snapshot by: its name, or, for one on a deleted volume moved aside when
    /// its name was used again, the name it had before (see <see cref="VolumeManager.CsiVolumeOf"/>).
    /// Null when the name is not one a CSI snapshot id of ours can have.
    /// </summary>
    private SnapshotId? IdOf(string snapshotName) =>
        snapshotName.IndexOf('@', StringComparison.Ordinal) is var at and > 0
        && volumes.CsiVolumeOf(snapshotName[..at]) is { } volume
            ? ParseId($"{volume.Value}@{snapshotName[(at + 1)..]}")
            : null;

    private Snapshot ToSnapshot(DatasetProperties snapshot, IReadOnlyList<DatasetProperties> rows) =>
        ToSnapshot(snapshot, rows.FirstOrDefault(r => r.Name == Inventory.DatasetOf(snapshot.Name)));

    /// <summary>The CSI view of one of our snapshots, its capacity from its dataset's row (<paramref name="volume"/>) when that was read.</summary>
    private Snapshot ToSnapshot(DatasetProperties snapshot, DatasetProperties? volume)
    {
        var id = IdOf(snapshot.Name) ?? throw new InvalidOperationException($"{snapshot.Name} is not a snapshot id");
        var group = snapshot.LocalValue(Markers.Group) is not null ? GroupIdFor(id.Leaf) : null;
        return new Snapshot(
            id,
            VolumeManager.SnapshotCapacity(snapshot, volume),
            DateTimeOffset.FromUnixTimeSeconds(snapshot.Bytes("creation") ?? 0),
            group
        );
    }
}
