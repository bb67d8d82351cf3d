using Serilog;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Snapshots;

/// <summary>
/// CSI snapshots as ZFS snapshots of volume datasets: the id is the snapshot's full name, the CSI
/// name a local user property set by the same <c>zfs snapshot -o</c> that takes it, so idempotency
/// needs no external store and a name is found across all volumes by one recursive <c>zfs get</c>.
/// Split by concern into partial files. Callers serialise operations on one name or id (the
/// driver's locks); every step is idempotent so a retry finishes what a crashed try began.
/// </summary>
public sealed partial class SnapshotManager(ZfsClient zfs, VolumeManager volumes, ILogger logger)
{
    private readonly ILogger _log = logger.ForContext<SnapshotManager>();

    public DatasetName Parent => volumes.Parent;

    public SnapshotId? ParseId(string id) => SnapshotId.TryParse(id, Parent);

    /// <summary>
    /// CreateSnapshot (CSI spec): idempotent by name; the same name for another source volume is
    /// ALREADY_EXISTS; a source volume that is not a ready volume of ours is NOT_FOUND; a pool that
    /// cannot hold the snapshot is RESOURCE_EXHAUSTED.
    /// </summary>
    public async Task<Snapshot> CreateAsync(string name, string sourceVolumeId, IReadOnlyDictionary<string, string> parameters, CancellationToken ct)
    {
        SnapshotNaming.Validate(name, "snapshot");
        SnapshotParameters.Validate(parameters);
        var encoded = Markers.EncodeName(name);
        for (var attempt = 0; ; attempt++)
        {
            var rows = await ListRowsAsync(Parent, ct).ConfigureAwait(false);
            var byName = rows.FirstOrDefault(r => Inventory.IsLiveCsiSnapshot(r) && r.LocalValue(Markers.CsiName) == encoded);
            if (byName is not null)
            {
                var found = ToSnapshot(byName, rows);
                if (found.Source.Value != sourceVolumeId)
                {
                    throw new AlreadyExistsException($"snapshot '{DatasetName.Printable(name)}' already exists for another source volume ({found.Source})");
                }
                _log.Debug("Snapshot name {SnapshotName} already is {SnapshotId}: an idempotent retry", name, found.Id.Value);
                return found;
            }

            var volume = volumes.ParseId(sourceVolumeId) is { } v && rows.FirstOrDefault(r => r.Name == v.Value) is { } p && VolumeManager.IsReady(p)
                ? v
                : throw new NotFoundException($"source volume '{DatasetName.Printable(sourceVolumeId)}' does not exist");
            var id = new SnapshotId(volume, SnapshotNaming.LeafFor(name, volume));
            await ClearLeafAsync(id.Name, rows, ct).ConfigureAwait(false);
            var capacity = VolumeManager.CapacityOf(rows.First(r => r.Name == volume.Value));
            try
            {
                await zfs.SnapshotAsync(id.Name,
                [
                    new(Markers.CsiName, encoded),
                    new(Markers.Capacity, capacity.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ], ct).ConfigureAwait(false);
            }
            catch (DatasetExistsException) when (attempt == 0)
            {
                continue;
            }
            catch (ZfsOutOfSpaceException e)
            {
                throw new OutOfSpaceException($"pool {Parent.Pool} has no room to snapshot volume {volume}: {e.StandardError.Trim()}");
            }
            _log.Information("Took snapshot {SnapshotId} for snapshot name {SnapshotName}", id.Value, name);
            return await GetAsync(id.Value, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes room for a new snapshot at <paramref name="name"/>: a deleted one still kept for its clones
    /// (deferred destroy) is renamed out of the way; anything else there is not ours to touch.
    /// </summary>
    private async Task ClearLeafAsync(SnapshotName name, IReadOnlyList<DatasetProperties> rows, CancellationToken ct)
    {
        var there = rows.FirstOrDefault(r => r.Name == name.Value);
        if (there is null)
        {
            return;
        }
        if (Inventory.IsOurSnapshot(there) && Inventory.IsDeferred(there))
        {
            await zfs.RenameSnapshotAsync(name, SnapshotName.Of(name.Dataset, SnapshotNaming.RetiredLeaf(name.Leaf)), ct).ConfigureAwait(false);
            return;
        }
        throw new AlreadyExistsException($"snapshot {name} already exists and was not made for this name (another tool's, or another group's); it is left alone");
    }

    /// <summary>GetSnapshot (CSI spec): a live snapshot of ours, or NOT_FOUND.</summary>
    public async Task<Snapshot> GetAsync(string id, CancellationToken ct)
    {
        var page = await ListAsync(0, null, id, null, ct).ConfigureAwait(false);
        return page.Snapshots.Count == 1 ? page.Snapshots[0] : throw new NotFoundException($"snapshot '{DatasetName.Printable(id)}' does not exist");
    }

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
