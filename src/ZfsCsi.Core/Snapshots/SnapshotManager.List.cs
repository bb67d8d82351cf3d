using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Snapshots;

public sealed partial class SnapshotManager
{
    /// <summary>
    /// ListSnapshots (CSI spec): live snapshots of ours in id order, from one zfs process: the one
    /// snapshot asked for, one volume's snapshots, or the whole parent. Unknown or foreign ids and
    /// volumes give an empty list, not an error. Paging continues after the last id returned.
    /// </summary>
    public async Task<SnapshotPage> ListAsync(int maxEntries, string? startingToken, string? snapshotId, string? sourceVolumeId, CancellationToken ct)
    {
        if (maxEntries < 0)
        {
            throw new InvalidInputException($"max_entries is {maxEntries}; it must be 0 (no limit) or more");
        }
        var after = PageToken.Read(startingToken);
        IReadOnlyList<DatasetProperties> rows;
        if (!string.IsNullOrEmpty(snapshotId))
        {
            if (ParseId(snapshotId) is not { } id || (!string.IsNullOrEmpty(sourceVolumeId) && sourceVolumeId != id.Volume.Value))
            {
                return new SnapshotPage([], null);
            }
            rows = await GetNamedOrEmptyAsync([id.Volume.Value, id.Value], ct).ConfigureAwait(false);
        }
        else if (!string.IsNullOrEmpty(sourceVolumeId))
        {
            if (volumes.ParseId(sourceVolumeId) is not { } volume)
            {
                return new SnapshotPage([], null);
            }
            rows = await ListRowsAsync(volume.Dataset, ct).ConfigureAwait(false);
        }
        else
        {
            rows = await ListRowsAsync(Parent, ct).ConfigureAwait(false);
        }
        var snapshots = rows
            .Where(r => Inventory.IsLiveCsiSnapshot(r) && ParseId(r.Name) is not null)
            .Where(r => after is null || string.CompareOrdinal(r.Name, after) > 0)
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => ToSnapshot(r, rows))
            .ToList();
        if (maxEntries > 0 && snapshots.Count > maxEntries)
        {
            var page = snapshots.Take(maxEntries).ToList();
            return new SnapshotPage(page, PageToken.Issue(page[^1].Id.Value));
        }
        return new SnapshotPage(snapshots, null);
    }

    /// <summary>Everything under <paramref name="dataset"/>, snapshots included; empty when it does not exist (the parent checked).</summary>
    private async Task<IReadOnlyList<DatasetProperties>> ListRowsAsync(DatasetName dataset, CancellationToken ct)
    {
        try
        {
            return await zfs.GetRecursiveAsync(dataset, Inventory.Properties, ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            await volumes.EnsureParentAsync(ct).ConfigureAwait(false);
            return [];
        }
    }

    private async Task<IReadOnlyList<DatasetProperties>> GetNamedOrEmptyAsync(IReadOnlyCollection<string> names, CancellationToken ct)
    {
        try
        {
            return await zfs.GetNamedAsync(names, Inventory.Properties, ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            await volumes.EnsureParentAsync(ct).ConfigureAwait(false);
            return [];
        }
    }

    private Snapshot ToSnapshot(DatasetProperties snapshot, IReadOnlyList<DatasetProperties> rows)
    {
        var id = ParseId(snapshot.Name) ?? throw new InvalidOperationException($"{snapshot.Name} is not a snapshot id");
        var volume = rows.FirstOrDefault(r => r.Name == id.Volume.Value);
        var group = snapshot.LocalValue(Markers.Group) is not null ? GroupIdFor(id.Leaf) : null;
        return new Snapshot(id, VolumeManager.SnapshotCapacity(snapshot, volume),
            DateTimeOffset.FromUnixTimeSeconds(snapshot.Bytes("creation") ?? 0), group);
    }
}
