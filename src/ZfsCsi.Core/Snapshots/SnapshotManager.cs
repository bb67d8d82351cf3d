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

    /// <summary>The volume an id names when it is a ready volume of ours in <paramref name="rows"/> (a listing of the parent); null otherwise.</summary>
    private VolumeId? ReadyVolumeIn(IReadOnlyList<DatasetProperties> rows, string volumeId) =>
        volumes.ParseId(volumeId) is { } v && rows.FirstOrDefault(r => r.Name == v.Value) is { } p && VolumeManager.IsReady(p) ? v : null;

    /// <summary>
    /// What CreateSnapshot checks before anything is looked up or locked (CSI spec: REQUIRED fields,
    /// Size Limits): a name (at most 128 bytes, no banned control characters), a source volume id,
    /// and no parameters of ours. INVALID_ARGUMENT whatever the source volume id names.
    /// </summary>
    public static void CheckCreateRequest(string name, string sourceVolumeId, IReadOnlyDictionary<string, string> parameters)
    {
        CsiName.Validate(name, "snapshot");
        if (string.IsNullOrEmpty(sourceVolumeId))
        {
            throw new InvalidInputException("source_volume_id is required: name the volume to snapshot");
        }
        SnapshotParameters.Validate(parameters);
    }

    /// <summary>
    /// CreateSnapshot (CSI spec): idempotent by name; the same name for another source volume is
    /// ALREADY_EXISTS; a source volume that is not a ready volume of ours is NOT_FOUND; a pool that
    /// cannot hold the snapshot is RESOURCE_EXHAUSTED.
    /// </summary>
    public async Task<Snapshot> CreateAsync(string name, string sourceVolumeId, IReadOnlyDictionary<string, string> parameters, CancellationToken ct)
    {
        CheckCreateRequest(name, sourceVolumeId, parameters);
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
                    throw new AlreadyExistsException($"snapshot '{Printable.Of(name)}' already exists for another source volume ({found.Source})");
                }
                _log.Debug("Snapshot name {SnapshotName} already is {SnapshotId}: an idempotent retry", name, found.Id.Value);
                return found;
            }

            var volume = ReadyVolumeIn(rows, sourceVolumeId) ?? throw new NotFoundException($"source volume '{Printable.Of(sourceVolumeId)}' does not exist");
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
            await zfs.RenameSnapshotAsync(name, SnapshotName.Of(name.Dataset, SnapshotNaming.RetiredLeaf(name.Leaf, DateTimeOffset.UtcNow)), ct).ConfigureAwait(false);
            return;
        }
        throw new AlreadyExistsException($"snapshot {name} already exists and was not made for this name (another tool's, or another group's); it is left alone");
    }

    /// <summary>GetSnapshot (CSI spec): a live snapshot of ours, or NOT_FOUND.</summary>
    public async Task<Snapshot> GetAsync(string id, CancellationToken ct)
    {
        var page = await ListAsync(0, null, id, null, ct).ConfigureAwait(false);
        return page.Snapshots.Count == 1 ? page.Snapshots[0] : throw new NotFoundException($"snapshot '{Printable.Of(id)}' does not exist");
    }
}
