using Serilog;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Snapshots;

/// <summary>
/// CSI snapshots as ZFS snapshots of volume datasets: the id is the snapshot's full name, the CSI
/// name a local user property set by the same <c>zfs snapshot -o</c> that takes it, so idempotency
/// needs no external store; a name's claim, a snapshot of the parent, makes it unique across all
/// volumes and finds it by name (<see cref="CreateAsync"/>).
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
        volumes.ParseId(volumeId) is { } v
        && rows.FirstOrDefault(r => r.Name == v.Value) is { } p
        && VolumeManager.IsReady(p)
            ? v
            : null;

    /// <summary>
    /// What CreateSnapshot checks before anything is looked up or locked (CSI spec: REQUIRED fields,
    /// Size Limits): a name (at most 128 bytes, no banned control characters), a source volume id,
    /// and no parameters of ours. INVALID_ARGUMENT whatever the source volume id names.
    /// </summary>
    public static void CheckCreateRequest(
        string name,
        string sourceVolumeId,
        IReadOnlyDictionary<string, string> parameters
    )
    {
        CsiName.Validate(name, "snapshot");
        if (string.IsNullOrEmpty(sourceVolumeId))
        {
            throw new InvalidInputException("source_volume_id is required: name the volume to snapshot");
        }
        SnapshotParameters.Validate(parameters);
    }

    /// <summary>The claim of a CSI snapshot name: a snapshot of the claims dataset (<see cref="SnapshotNaming.ClaimLeafFor"/>).</summary>
    public SnapshotName ClaimFor(string name) => volumes.ClaimFor(name);

    /// <summary>
    /// CreateSnapshot (CSI spec): idempotent by name; the same name for another source volume is
    /// ALREADY_EXISTS; a source volume that is not a ready volume of ours is NOT_FOUND; a pool that
    /// cannot hold the snapshot is RESOURCE_EXHAUSTED. O(1) in the number of other volumes and
    /// snapshots: one <c>zfs get</c> of three names (the source volume, the snapshot the name maps
    /// to on it, and the name's claim) tells a retry, a name held elsewhere and a new snapshot apart.
    /// The claim and the snapshot are taken by one atomic <c>zfs snapshot</c> where zfs takes several
    /// names (OpenZFS); zfs-fuse takes the claim first, so a crash between the two leaves a claim
    /// that this name's retry completes and another source's request finds stale (its snapshot is
    /// not there) and takes over. A deleted snapshot's claim stays until the sweep removes it.
    /// </summary>
    public async Task<Snapshot> CreateAsync(
        string name,
        string sourceVolumeId,
        IReadOnlyDictionary<string, string> parameters,
        CancellationToken ct
    )
    {
        CheckCreateRequest(name, sourceVolumeId, parameters);
        var encoded = Markers.EncodeName(name);
        var claim = ClaimFor(name);
        var earlierClaim = volumes.EarlierClaimFor(name);
        SnapshotId? target = volumes.ParseId(sourceVolumeId) is { } v
            ? new SnapshotId(v, SnapshotNaming.LeafFor(name, v))
            : null;
        for (var attempt = 0; ; attempt++)
        {
            var rows = await zfs.GetExistingAsync(
                    target is { } t
                        ? [t.Volume.Value, t.Value, claim.Value, earlierClaim.Value]
                        : [claim.Value, earlierClaim.Value],
                    Inventory.Properties,
                    ct
                )
                .ConfigureAwait(false);
            var there = target is { } at ? rows.FirstOrDefault(r => r.Name == at.Value) : null;
            if (there is not null && Inventory.IsLiveCsiSnapshot(there) && there.LocalValue(Markers.CsiName) == encoded)
            {
                _log.Debug(
                    "Snapshot name {SnapshotName} already is {SnapshotId}: an idempotent retry",
                    name,
                    there.Name
                );
                return ToSnapshot(there, rows);
            }
            var claimed = rows.FirstOrDefault(r => r.Name == claim.Value);
            // The claim, and where an earlier release kept it until the sweep moves it: either holds the name.
            foreach (
                var (held, row) in new[]
                {
                    (claim, claimed),
                    (earlierClaim, rows.FirstOrDefault(r => r.Name == earlierClaim.Value)),
                }
            )
            {
                if (row?.LocalValue(Markers.SnapshotId) is not { } holder || holder == target?.Value)
                {
                    continue;
                }
                if (await LiveHolderAsync(holder, encoded, ct).ConfigureAwait(false) is { } other)
                {
                    throw new AlreadyExistsException(
                        $"snapshot '{Printable.Of(name)}' already exists for another source volume ({other.Source})"
                    );
                }
                // The snapshot that held the name is gone (deleted, or never taken by a crashed try):
                // the claim is stale and this request takes the name over.
                await zfs.DestroySnapshotDeferredAsync(held, ct).ConfigureAwait(false);
                if (held == claim)
                {
                    claimed = null;
                }
            }
            if (
                target is not { } id
                || rows.FirstOrDefault(r => r.Name == id.Volume.Value) is not { } volume
                || !VolumeManager.IsReady(volume)
            )
            {
                if (rows.Count == 0)
                {
                    await volumes.EnsureParentAsync(ct).ConfigureAwait(false);
                }
                throw new NotFoundException($"source volume '{Printable.Of(sourceVolumeId)}' does not exist");
            }
            if (there is not null)
            {
                await ClearLeafAsync(id.Name, there, ct).ConfigureAwait(false);
            }
            KeyValuePair<string, string>[] markers =
            [
                new(Markers.CsiName, encoded),
                new(
                    Markers.Capacity,
                    VolumeManager.CapacityOf(volume).ToString(System.Globalization.CultureInfo.InvariantCulture)
                ),
                new(Markers.SnapshotId, id.Value),
            ];
            try
            {
                if (claimed is null)
                {
                    await ClaimAndSnapshotAsync(claim, id.Name, markers, ct).ConfigureAwait(false);
                }
                else
                {
                    await zfs.SnapshotAsync(id.Name, markers, ct).ConfigureAwait(false);
                }
            }
            catch (DatasetExistsException) when (attempt == 0)
            {
                continue;
            }
            catch (ZfsOutOfSpaceException e)
            {
                throw new OutOfSpaceException(
                    $"pool {Parent.Pool} has no room to snapshot volume {id.Volume}: {e.StandardError.Trim()}"
                );
            }
            _log.Information("Took snapshot {SnapshotId} for snapshot name {SnapshotName}", id.Value, name);
            return await GetAsync(id.Value, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The live snapshot <paramref name="holder"/> (a claim's snapshot id) names, when it still holds the name <paramref name="encoded"/>.</summary>
    private async Task<Snapshot?> LiveHolderAsync(string holder, string encoded, CancellationToken ct)
    {
        if (
            ParseId(holder) is not { } id
            || await volumes.FindSnapshotRowsAsync(id, ct).ConfigureAwait(false) is not { } rows
        )
        {
            return null;
        }
        return
            rows.FirstOrDefault(r => r.IsSnapshot && Inventory.IsLiveCsiSnapshot(r)) is { } row
            && row.LocalValue(Markers.CsiName) == encoded
            ? ToSnapshot(row, rows)
            : null;
    }

    /// <summary>
    /// The name's claim and the snapshot. One atomic command where zfs takes several names
    /// (OpenZFS: both or neither); else (zfs-fuse) the claim first, then the snapshot.
    /// </summary>
    private async Task ClaimAndSnapshotAsync(
        SnapshotName claim,
        SnapshotName snapshot,
        KeyValuePair<string, string>[] markers,
        CancellationToken ct
    )
    {
        if (_multiSnapshot != false)
        {
            var many = await volumes
                .WithClaimsDatasetAsync(() => zfs.TrySnapshotManyAsync([claim, snapshot], markers, ct), ct)
                .ConfigureAwait(false);
            if (_multiSnapshot is null && !many)
            {
                _log.Information(
                    "This zfs takes one snapshot name per command; a snapshot name's claim is taken just before the snapshot"
                );
            }
            _multiSnapshot = many;
            if (many)
            {
                return;
            }
        }
        await volumes
            .WithClaimsDatasetAsync(
                async () =>
                {
                    await zfs.SnapshotAsync(claim, markers, ct).ConfigureAwait(false);
                    return true;
                },
                ct
            )
            .ConfigureAwait(false);
        await zfs.SnapshotAsync(snapshot, markers, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes room for a new snapshot at <paramref name="name"/>: a deleted one still kept for its clones
    /// (deferred destroy) is renamed out of the way; anything else there is not ours to touch.
    /// </summary>
    private async Task ClearLeafAsync(SnapshotName name, DatasetProperties there, CancellationToken ct)
    {
        if (Inventory.IsOurSnapshot(there) && Inventory.IsDeferred(there))
        {
            await zfs.RenameSnapshotAsync(
                    name,
                    SnapshotName.Of(name.Dataset, SnapshotNaming.RetiredLeaf(name.Leaf, DateTimeOffset.UtcNow)),
                    ct
                )
                .ConfigureAwait(false);
            return;
        }
        throw new AlreadyExistsException(
            $"snapshot {name} already exists and was not made for this name (another tool's, or another group's); it is left alone"
        );
    }

    /// <summary>GetSnapshot (CSI spec): a live snapshot of ours, or NOT_FOUND.</summary>
    public async Task<Snapshot> GetAsync(string id, CancellationToken ct)
    {
        var page = await ListAsync(0, null, id, null, ct).ConfigureAwait(false);
        return page.Snapshots.Count == 1
            ? page.Snapshots[0]
            : throw new NotFoundException($"snapshot '{Printable.Of(id)}' does not exist");
    }
}
