using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>How long an internal clone-source snapshot without its clone may be an in-flight CreateVolume.</summary>
    public static readonly TimeSpan HiddenSnapshotGrace = TimeSpan.FromMinutes(10);

    /// <summary>A chain (volume → snapshot → clone → its snapshot ...) frees one link per pass.</summary>
    private const int MaxSweepPasses = 16;

    /// <summary>
    /// Garbage collection, in the background (asked for by deletes, and periodic): destroys retained (deleted) volumes that nothing needs
    /// any more, whether at their own name or moved aside (<see cref="RetireAsync"/>); half-made
    /// volumes ("creating") that no CreateVolume retry came for within
    /// <see cref="VolumeOptions.CreatingGrace"/>; and the driver's clone-source snapshots whose clone
    /// exists (deferred) or that a crashed CreateVolume abandoned. Deferred-destroyed snapshots vanish
    /// by themselves when their last clone goes; that can free a retained volume, so passes repeat
    /// until one changes nothing. One <c>zfs get -r</c> per pass; failures are logged, never thrown:
    /// the next sweep retries.
    /// </summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        try
        {
            await SweepPassesAsync(ct).ConfigureAwait(false);
            // Key files no dataset names (a destroyed retained volume's, a crash's between the file
            // and its create), once older than the longest create could be using one.
            await RemoveUnreferencedKeysAsync(null, options.CreatingGrace, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Nothing here may stop the background sweep for good (an unparsable listing, an I/O
            // error): the next sweep tries again.
            _log.Warning(e, "Sweep of {ParentDataset} stopped: {Reason}", Parent.Value, e.Message);
        }
    }

    private async Task SweepPassesAsync(CancellationToken ct)
    {
        for (var pass = 0; pass < MaxSweepPasses; pass++)
        {
            IReadOnlyList<DatasetProperties> rows;
            try
            {
                rows = await zfs.GetRecursiveAsync(Parent, Inventory.Properties, ct).ConfigureAwait(false);
            }
            catch (Errors.ZfsCsiException e)
            {
                _log.Warning("Sweep cannot list {ParentDataset}: {Reason}", Parent.Value, e.Message);
                return;
            }
            var now = _clock.GetUtcNow();
            var snapshots = Inventory.SnapshotsByDataset(rows);
            var datasets = rows.Where(r => !r.IsSnapshot).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
            var parents = datasets
                .Where(d => d.Contains('/'))
                .Select(d => d[..d.LastIndexOf('/')])
                .ToHashSet(StringComparer.Ordinal);
            bool HasChildren(string dataset) => parents.Contains(dataset);
            var changed = false;
            // Only volume ids (direct children the other RPCs accept, or such a volume moved aside)
            // and only ones with no dataset below them: a kept volume renamed or received elsewhere
            // by hand keeps its markers.
            foreach (
                var volume in rows.Where(r =>
                    !r.IsSnapshot
                    && IsOurs(r)
                    && r.LocalValue(Markers.State) == Markers.StateDeleted
                    && CsiVolumeOf(r.Name) is not null
                    && !HasChildren(r.Name)
                )
            )
            {
                if (snapshots[volume.Name].Any(s => Inventory.IsLiveCsiSnapshot(s) || Inventory.IsDeferred(s)))
                {
                    continue;
                }
                changed |= await DestroyUnderLockAsync(
                        volume,
                        Markers.StateDeleted,
                        _ => true,
                        null,
                        "destroy retained volume",
                        ct
                    )
                    .ConfigureAwait(false);
            }
            // A half-made volume holds its quota's reservation (thick) or its clone's origin for as
            // long as it exists, and once the CO gives up (the PVC is deleted) no DeleteVolume ever
            // comes for it: the CO never learned its id (CSI spec, CreateVolume). None of the
            // driver's snapshots can be on one (CreateSnapshot needs a ready volume); if some are,
            // a person made them, and it is left to that person.
            foreach (
                var creating in rows.Where(r =>
                    !r.IsSnapshot
                    && IsOurs(r)
                    && r.LocalValue(Markers.State) == Markers.StateCreating
                    && ParseId(r.Name) is not null
                    && !HasChildren(r.Name)
                    && IsAbandoned(r, now)
                    && !snapshots[r.Name].Any(Inventory.IsOurSnapshot)
                )
            )
            {
                changed |= await DestroyAbandonedAsync(creating, ct).ConfigureAwait(false);
            }
            foreach (
                var hidden in rows.Where(r =>
                    Inventory.IsHidden(r)
                    && !Inventory.IsDeferred(r)
                    && CsiVolumeOf(Inventory.DatasetOf(r.Name)) is not null
                )
            )
            {
                var target = Snapshots.SnapshotNaming.CloneTargetLeaf(Inventory.LeafOf(hidden.Name));
                var created = DateTimeOffset.FromUnixTimeSeconds(hidden.Bytes("creation") ?? 0);
                var targetExists = target is not null && datasets.Contains($"{Parent.Value}/{target}");
                if (
                    (targetExists || now - created > HiddenSnapshotGrace)
                    && SnapshotName.TryParse(hidden.Name, out var name)
                )
                {
                    changed |= await TryAsync("release clone source", hidden.Name, () =>
                            zfs.DestroySnapshotDeferredAsync(name, ct)
                        )
                        .ConfigureAwait(false);
                }
            }
            // A recursive group snapshot's temporary (zfs-fuse path) left by a crash that nobody
            // retried: it pins every volume's overwritten blocks, so it goes after the grace period.
            var temporaryPrefix = Parent.Value + "@" + Snapshots.SnapshotNaming.GroupTemporaryLeaf("");
            foreach (var temporary in rows.Where(r => r.Name.StartsWith(temporaryPrefix, StringComparison.Ordinal)))
            {
                var created = DateTimeOffset.FromUnixTimeSeconds(temporary.Bytes("creation") ?? 0);
                if (now - created > HiddenSnapshotGrace && SnapshotName.TryParse(temporary.Name, out var name))
                {
                    changed |= await TryAsync("destroy abandoned group temporary", temporary.Name, () =>
                            zfs.DestroySnapshotRecursiveAsync(name, ct)
                        )
                        .ConfigureAwait(false);
                }
            }
            changed |= await SweepClaimsAsync(rows, ct).ConfigureAwait(false);
            if (!changed)
            {
                return;
            }
        }
    }

    /// <summary>Made longer ago than the grace allows any CreateVolume to run (zfs's <c>creation</c>, in seconds).</summary>
    private bool IsAbandoned(DatasetProperties dataset, DateTimeOffset now) =>
        dataset.Bytes("creation") is { } created
        && now - DateTimeOffset.FromUnixTimeSeconds(created) > options.CreatingGrace;

    /// <summary>
    /// Destroys a half-made volume under its name's lock, so that a CreateVolume retry (which holds
    /// it) and the sweep never work on one dataset at once: a held lock means a retry is running
    /// now, and the dataset is left to it.
    /// </summary>
    private Task<bool> DestroyAbandonedAsync(DatasetProperties row, CancellationToken ct) =>
        DestroyUnderLockAsync(
            row,
            Markers.StateCreating,
            now => IsAbandoned(now, _clock.GetUtcNow()),
            now =>
                _log.Warning(
                    "Sweep: volume name {VolumeName} has been half-made in {Dataset} since {CreatedAt:o} and no CreateVolume retry came within {GraceSeconds} s; destroying it",
                    Errors.Printable.Of(Markers.DecodeName(now.LocalValue(Markers.CsiName)) ?? ""),
                    row.Name,
                    DateTimeOffset.FromUnixTimeSeconds(now.Bytes("creation") ?? 0),
                    options.CreatingGrace.TotalSeconds
                ),
            "destroy abandoned half-made volume",
            ct
        );

    /// <summary>
    /// Destroys a dataset the sweep found in <paramref name="state"/>, holding the lock its RPCs take
    /// (the volume id): the listing may be seconds old, and meanwhile a CreateVolume may have moved
    /// a kept volume aside and made a new one at that name, or a retry finished a half-made one.
    /// A held lock means an operation is running now, and the dataset is left to it; once the lock
    /// is ours the dataset is read again and destroyed only if it is still ours, in that state and
    /// still due. Nothing is thrown: the next sweep tries again.
    /// </summary>
    private async Task<bool> DestroyUnderLockAsync(
        DatasetProperties row,
        string state,
        Func<DatasetProperties, bool> stillDue,
        Action<DatasetProperties>? announce,
        string what,
        CancellationToken ct
    )
    {
        using var held = locks.TryAcquire(row.Name);
        if (held is null)
        {
            _log.Information(
                "Sweep: {Dataset} is being worked on (its lock is held); left to that operation",
                row.Name
            );
            return false;
        }
        var dataset = DatasetName.Parse(row.Name);
        DatasetProperties? now;
        try
        {
            now = await zfs.TryGetAsync(dataset, [Markers.CsiName, Markers.State, "creation"], ct)
                .ConfigureAwait(false);
        }
        catch (Errors.ZfsCsiException e)
        {
            _log.Information("Sweep: cannot read {Dataset} again: {Reason}", row.Name, e.Message);
            return false;
        }
        if (now is null || !IsOurs(now) || now.LocalValue(Markers.State) != state || !stillDue(now))
        {
            return false;
        }
        announce?.Invoke(now);
        // An encrypted kept or half-made volume's key file goes with it: it was the file's only user.
        var keyFile = await KeyFileOfAsync(dataset, ct).ConfigureAwait(false);
        var destroyed = await TryAsync(what, row.Name, () => zfs.DestroyAsync(dataset, ct)).ConfigureAwait(false);
        if (destroyed && keyFile is not null)
        {
            RemoveKeyFileOfDestroyed(keyFile, dataset);
        }
        return destroyed;
    }

    private async Task<bool> TryAsync(string what, string name, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            _log.Information("Sweep: {Action} {Dataset}", what, name);
            return true;
        }
        catch (Errors.ZfsCsiException e)
        {
            // Not now (busy, a clone appeared, gone already): the next sweep tries again.
            _log.Information("Sweep: cannot {Action} {Dataset} yet: {Reason}", what, name, e.Message);
            return false;
        }
    }
}
