using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>
    /// CreateVolume with a content source (CSI spec, VolumeContentSource): a <c>zfs clone</c> of the
    /// snapshot, with quota and every marker applied by the clone itself, like a plain create. A
    /// volume source is first snapshotted by the driver (a hidden snapshot, never listed) and that
    /// snapshot is deferred-destroyed as soon as the clone exists, so it lives exactly as long as
    /// the clone. The new volume is at least the source's capacity; a larger request is honoured by
    /// the quota. Idempotent by name like <see cref="CreateAsync"/>: a crash leaves a "creating"
    /// clone or a hidden snapshot that the retry finishes or the sweep releases.
    /// </summary>
    public Task<Volume> CreateFromSourceAsync(
        string name,
        CapacityRange range,
        VolumeParameters parameters,
        ContentSource source,
        CancellationToken ct
    ) => CreateFromSourceAsync(name, range, parameters, MutableParameters.None, source, ct);

    /// <summary>A clone with mutable parameters: as <see cref="CreateAsync(string, CapacityRange, VolumeParameters, MutableParameters, CancellationToken)"/>.</summary>
    public Task<Volume> CreateFromSourceAsync(
        string name,
        CapacityRange range,
        VolumeParameters parameters,
        MutableParameters mutable,
        ContentSource source,
        CancellationToken ct
    ) => CloneAsync(name, range, parameters, mutable, source, view: false, ct);

    /// <summary>
    /// CreateVolume of a read-only view of a snapshot (README, "Read-only views"): a <c>zfs clone</c>
    /// with <c>readonly=on</c> and the <see cref="Markers.View"/> marker in the one command, never
    /// thick, its capacity exactly the snapshot's restore size. Nothing is ever written to it, so it
    /// holds no blocks of its own; it keeps its snapshot as any clone does (a deleted snapshot stays,
    /// deferred, until its last view or clone goes). Idempotent and crash-safe like a clone.
    /// </summary>
    public Task<Volume> CreateViewAsync(
        string name,
        CapacityRange range,
        VolumeParameters parameters,
        MutableParameters mutable,
        ContentSource source,
        CancellationToken ct
    )
    {
        if (source.Kind != ContentSourceKind.Snapshot)
        {
            throw new InvalidInputException(
                $"a read-only view is of a snapshot; volume_content_source names volume {Printable.Of(source.Id)}. Restore from a VolumeSnapshot, or use {ParameterKeys.View}: auto or never"
            );
        }
        CheckViewStaysReadOnly($"volume '{Printable.Of(name)}'", mutable);
        return CloneAsync(name, range, parameters, mutable, source, view: true, ct);
    }

    private async Task<Volume> CloneAsync(
        string name,
        CapacityRange range,
        VolumeParameters parameters,
        MutableParameters mutable,
        ContentSource source,
        bool view,
        CancellationToken ct
    )
    {
        var dataset = DatasetFor(name);
        var effective = mutable.AppliedTo(parameters);
        range.Resolve();
        for (var attempt = 0; ; attempt++)
        {
            var existing = await ExistingAsync(dataset, name, ct).ConfigureAwait(false);
            if (existing is not null)
            {
                CheckCompatible(existing, name, range, parameters, mutable, source);
                CheckSameKind(existing, name, view, demanded: parameters.View == ViewMode.Always);
                await ReleaseCloneSourceAsync(source, dataset, ct).ConfigureAwait(false);
                return await FinishAsync(dataset, effective, existing, ct, applyRoot: false).ConfigureAwait(false);
            }

            if (parameters.Encryption is not null)
            {
                await RequireEncryptionAsync(ct).ConfigureAwait(false);
            }
            var (origin, sourceCapacity) = await ResolveSourceAsync(source, dataset, ct).ConfigureAwait(false);
            if (parameters.Encryption is not null)
            {
                await RequireEncryptedOriginAsync(origin, source, dataset, ct).ConfigureAwait(false);
            }
            if (
                view
                && parameters.View != ViewMode.Always
                && range.RequiredBytes > Math.Max(sourceCapacity, CapacityRange.MinimumBytes)
            )
            {
                // view: auto and more than the snapshot holds: a view could not give it, a clone can
                // (as before views existed); only view: always makes that OUT_OF_RANGE.
                view = false;
            }
            var size = view ? ViewSizeFor(range, sourceCapacity, source) : SizeFor(range, sourceCapacity, source);
            var pool = (await GetCapacityAsync(ct).ConfigureAwait(false)).MaximumVolumeBytes;
            if (size > pool)
            {
                throw new CapacityOutOfRangeException(
                    $"a volume of {size} bytes cannot fit in pool {Parent.Pool}, which holds {pool} bytes in all"
                );
            }
            try
            {
                var properties = view
                    ? ViewProperties(CreateProperties(name, size, effective with { Thick = false }, mutable, source))
                    : CreateProperties(name, size, effective, mutable, source);
                await zfs.CloneAsync(origin, dataset, properties, ct).ConfigureAwait(false);
                _log.Information(
                    "Cloned {Origin} into dataset {Dataset} for volume name {VolumeName} with {CapacityBytes} bytes{Kind}",
                    origin.Value,
                    dataset.Value,
                    name,
                    size,
                    view ? " as a read-only view" : ""
                );
            }
            catch (DatasetExistsException) when (attempt == 0)
            {
                continue;
            }
            catch (DatasetNotFoundException) when (attempt == 0)
            {
                // The origin went between our read and the clone (a concurrent delete or sweep), or
                // moved with its volume when a CreateVolume used that volume's name again: judge again.
                continue;
            }
            catch (DatasetNotFoundException)
            {
                throw new NotFoundException($"content source {source.Id} does not exist any more");
            }
            catch (ZfsOutOfSpaceException e)
            {
                throw new OutOfSpaceException(
                    $"pool {Parent.Pool} has no room for a clone of {size} bytes: {e.StandardError.Trim()}"
                );
            }
            await ReleaseCloneSourceAsync(source, dataset, ct).ConfigureAwait(false);
            var created = await zfs.TryGetAsync(dataset, VolumeProperties, ct).ConfigureAwait(false)
                ?? throw new FailedPreconditionException(
                    $"dataset {dataset} vanished right after it was cloned; retry"
                );
            return await FinishAsync(dataset, effective, created, ct, applyRoot: false).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The new volume holds at least what the source held: no required size means the source's
    /// capacity, a smaller one is raised to it (the spec lets a plugin give more than required),
    /// and a limit below it can never be met: OUT_OF_RANGE.
    /// </summary>
    private static long SizeFor(CapacityRange range, long sourceCapacity, ContentSource source)
    {
        if (range.LimitBytes > 0 && range.LimitBytes < sourceCapacity)
        {
            throw new CapacityOutOfRangeException(
                $"capacity_range limit_bytes {range.LimitBytes} is below the {sourceCapacity} bytes of {source.Kind.ToString().ToLowerInvariant()} {source.Id}; a restore needs at least that"
            );
        }
        var requested = range.RequiredBytes > 0 ? range.Resolve() : 0;
        return Math.Max(Math.Max(requested, sourceCapacity), CapacityRange.MinimumBytes);
    }

    /// <summary>
    /// A view holds exactly what its snapshot held: it is never written, so a larger capacity could
    /// never be used and would be a lie to the CO. CSI spec, CreateVolume: a capacity_range the
    /// plugin cannot satisfy is OUT_OF_RANGE (reached with view: always; auto makes a clone instead).
    /// </summary>
    private static long ViewSizeFor(CapacityRange range, long sourceCapacity, ContentSource source)
    {
        var size = Math.Max(sourceCapacity, CapacityRange.MinimumBytes);
        if (range.RequiredBytes > size)
        {
            throw new CapacityOutOfRangeException(
                $"a read-only view of snapshot {source.Id} has its {size} bytes; required_bytes {range.RequiredBytes} is more. Ask for at most the snapshot's restore size, or restore it as a clone ({ParameterKeys.View}: never)"
            );
        }
        if (range.LimitBytes > 0 && range.LimitBytes < size)
        {
            throw new CapacityOutOfRangeException(
                $"capacity_range limit_bytes {range.LimitBytes} is below the {size} bytes of snapshot {source.Id}; a view has exactly that size"
            );
        }
        return size;
    }

    /// <summary>
    /// A view's properties: <c>readonly=on</c> (ZFS refuses every write, through every bind and over
    /// SSHFS alike) in place of any readonly the StorageClass gave, and the view marker.
    /// </summary>
    public static List<KeyValuePair<string, string>> ViewProperties(List<KeyValuePair<string, string>> properties)
    {
        properties.RemoveAll(p => p.Key == "readonly");
        properties.Add(new("readonly", "on"));
        properties.Add(new(Markers.View, Markers.ViewOn));
        return properties;
    }

    /// <summary>
    /// CSI spec, CreateVolume: a retry must find a volume compatible with what it asks for. A view
    /// cannot serve a request that makes a clone (a writer mode, or view: never, which the digest
    /// catches besides); a clone serves a reader-only request made with view: auto (it was made for
    /// a larger capacity than the snapshot's, or by a writer request of the same name), but not one
    /// that demands a view (view: always).
    /// </summary>
    private static void CheckSameKind(DatasetProperties existing, string name, bool view, bool demanded = false)
    {
        if (IsView(existing) && !view)
        {
            throw new AlreadyExistsException(
                $"volume '{Printable.Of(name)}' already exists as a read-only view of its snapshot, not a writable clone (its access modes or the StorageClass's {ParameterKeys.View} changed?)"
            );
        }
        if (!IsView(existing) && view && demanded)
        {
            throw new AlreadyExistsException(
                $"volume '{Printable.Of(name)}' already exists as a writable clone of its snapshot, not the read-only view {ParameterKeys.View}: always asks for"
            );
        }
    }

    /// <summary>The snapshot to clone and the capacity a restore needs; NOT_FOUND when the source is not a live one of ours.</summary>
    private async Task<(SnapshotName Origin, long Capacity)> ResolveSourceAsync(
        ContentSource source,
        DatasetName target,
        CancellationToken ct
    )
    {
        if (source.Kind == ContentSourceKind.Snapshot)
        {
            var id = SnapshotId.TryParse(source.Id, Parent) ?? throw SourceNotFound(source);
            // The snapshot may live on a retained volume moved aside when its name was used again.
            var rows = await FindSnapshotRowsAsync(id, ct).ConfigureAwait(false);
            var snapshot = rows?.FirstOrDefault(r => r.IsSnapshot);
            var volume = rows?.FirstOrDefault(r => !r.IsSnapshot);
            if (
                snapshot is null
                || volume is null
                || !Inventory.IsLiveCsiSnapshot(snapshot)
                || !SnapshotName.TryParse(snapshot.Name, out var origin)
            )
            {
                throw SourceNotFound(source);
            }
            return (origin, SnapshotCapacity(snapshot, volume));
        }

        // A source volume on an exported pool is UNAVAILABLE, not NOT_FOUND, as for every other RPC.
        var (volumeId, props) = await ReadyAsync(source.Id, () => SourceNotFound(source), ct).ConfigureAwait(false);
        var hidden = CloneSourceOf(volumeId, target);
        var existing = await zfs.TryGetAsync(hidden, Inventory.Properties, ct).ConfigureAwait(false);
        if (existing is null || Inventory.IsDeferred(existing))
        {
            if (existing is not null)
            {
                // Left by an earlier clone of this name that is gone since: move it out of the way.
                await zfs.RenameSnapshotAsync(
                        hidden,
                        SnapshotName.Of(volumeId.Dataset, SnapshotNaming.RetiredLeaf(hidden.Leaf, _clock.GetUtcNow())),
                        ct
                    )
                    .ConfigureAwait(false);
            }
            try
            {
                await zfs.SnapshotAsync(hidden, [new(Markers.State, Markers.StateHidden)], ct).ConfigureAwait(false);
            }
            catch (ZfsOutOfSpaceException e)
            {
                throw new OutOfSpaceException(
                    $"pool {Parent.Pool} has no room to snapshot volume {volumeId} for a clone: {e.StandardError.Trim()}"
                );
            }
        }
        return (hidden, CapacityOf(props));
    }

    /// <summary>
    /// A clone shares its origin's encryption (zfs-clone(8): a clone is always in its origin's
    /// encryption root and uses its key; ZFS gives a clone no key of its own), so an encrypting
    /// StorageClass can only restore or clone an encrypted source: from a plain one the result
    /// would silently not be encrypted. INVALID_ARGUMENT, nothing made (a volume source's hidden
    /// snapshot is released at once).
    /// </summary>
    private async Task RequireEncryptedOriginAsync(
        SnapshotName origin,
        ContentSource source,
        DatasetName target,
        CancellationToken ct
    )
    {
        var props = await zfs.TryGetAsync(origin, ["encryption"], ct).ConfigureAwait(false);
        if (props?.Value("encryption") is null or "off")
        {
            await ReleaseCloneSourceAsync(source, target, ct).ConfigureAwait(false);
            throw new InvalidInputException(
                $"the StorageClass asks for {ParameterKeys.Encryption} but content source '{Printable.Of(source.Id)}' is not encrypted, "
                    + "and a ZFS clone keeps its origin's encryption: restore it with a class without encryption (nothing was made)"
            );
        }
    }

    /// <summary>After a volume-to-volume clone: the hidden source snapshot now lives as long as the clone (deferred destroy).</summary>
    private async Task ReleaseCloneSourceAsync(ContentSource source, DatasetName target, CancellationToken ct)
    {
        if (source.Kind != ContentSourceKind.Volume || ParseId(source.Id) is not { } volumeId)
        {
            return;
        }
        var hidden = CloneSourceOf(volumeId, target);
        var props = await zfs.TryGetAsync(hidden, ["defer_destroy"], ct).ConfigureAwait(false);
        if (props is not null && !Inventory.IsDeferred(props))
        {
            await zfs.DestroySnapshotDeferredAsync(hidden, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The size a restore of a snapshot needs: its capacity marker, else (group members) its volume's capacity.</summary>
    internal static long SnapshotCapacity(DatasetProperties snapshot, DatasetProperties? volume) =>
        (snapshot.LocalValue(Markers.Capacity) is { } c ? ZfsParser.ParseBytes(c) : null)
        ?? (volume is null ? 0 : CapacityOf(volume));

    private static NotFoundException SourceNotFound(ContentSource source) =>
        new($"content source {source.Kind.ToString().ToLowerInvariant()} '{Printable.Of(source.Id)}' does not exist");

    /// <summary>The hidden snapshot of <paramref name="source"/> a clone into <paramref name="target"/> is made from.</summary>
    private static SnapshotName CloneSourceOf(VolumeId source, DatasetName target) =>
        SnapshotName.Of(source.Dataset, SnapshotNaming.CloneSourceLeaf(target.Leaf));
}
