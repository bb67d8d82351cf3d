using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>How long an internal clone-source snapshot without its clone may be an in-flight CreateVolume.</summary>
    public static readonly TimeSpan HiddenSnapshotGrace = TimeSpan.FromMinutes(10);

    /// <summary>A chain (volume → snapshot → clone → its snapshot ...) frees one link per pass.</summary>
    private const int MaxSweepPasses = 16;

    /// <summary>
    /// Garbage collection after every delete: destroys retained (deleted) volumes that nothing needs
    /// any more, and the driver's clone-source snapshots whose clone exists (deferred) or that a
    /// crashed CreateVolume abandoned. Deferred-destroyed snapshots vanish by themselves when their
    /// last clone goes; that can free a retained volume, so passes repeat until one changes nothing.
    /// One <c>zfs get -r</c> per pass; failures are logged, never thrown: the next sweep retries.
    /// </summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        for (var pass = 0; pass < MaxSweepPasses; pass++)
        {
            IReadOnlyList<DatasetProperties> rows;
            try
            {
                rows = await zfs.GetRecursiveAsync(Parent, Inventory.Properties, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Errors.ZfsCsiException)
            {
                _log.Warning("Sweep cannot list {ParentDataset}: {Reason}", Parent.Value, e.Message);
                return;
            }
            var snapshots = Inventory.SnapshotsByDataset(rows);
            var datasets = rows.Where(r => !r.IsSnapshot).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
            var changed = false;
            // Only volume ids (direct children the other RPCs accept) and only ones with no dataset
            // below them: a kept volume renamed or received elsewhere by hand keeps its markers.
            foreach (var volume in rows.Where(r => !r.IsSnapshot && IsOurs(r) && r.LocalValue(Markers.State) == Markers.StateDeleted
                && ParseId(r.Name) is not null && !datasets.Any(d => d.StartsWith(r.Name + "/", StringComparison.Ordinal))))
            {
                if (snapshots[volume.Name].Any(s => Inventory.IsLiveCsiSnapshot(s) || Inventory.IsDeferred(s)))
                {
                    continue;
                }
                changed |= await TryAsync("destroy retained volume", volume.Name,
                    () => zfs.DestroyAsync(DatasetName.Parse(volume.Name), ct)).ConfigureAwait(false);
            }
            foreach (var hidden in rows.Where(r => Inventory.IsHidden(r) && !Inventory.IsDeferred(r) && ParseId(Inventory.DatasetOf(r.Name)) is not null))
            {
                var target = Snapshots.SnapshotNaming.CloneTargetLeaf(Inventory.LeafOf(hidden.Name));
                var created = DateTimeOffset.FromUnixTimeSeconds(hidden.Bytes("creation") ?? 0);
                var targetExists = target is not null && datasets.Contains($"{Parent.Value}/{target}");
                if ((targetExists || DateTimeOffset.UtcNow - created > HiddenSnapshotGrace)
                    && SnapshotName.TryParse(hidden.Name, out var name))
                {
                    changed |= await TryAsync("release clone source", hidden.Name,
                        () => zfs.DestroySnapshotDeferredAsync(name, ct)).ConfigureAwait(false);
                }
            }
            // A recursive group snapshot's temporary (zfs-fuse path) left by a crash that nobody
            // retried: it pins every volume's overwritten blocks, so it goes after the grace period.
            var temporaryPrefix = Parent.Value + "@" + Snapshots.SnapshotNaming.GroupTemporaryLeaf("");
            foreach (var temporary in rows.Where(r => r.Name.StartsWith(temporaryPrefix, StringComparison.Ordinal)))
            {
                var created = DateTimeOffset.FromUnixTimeSeconds(temporary.Bytes("creation") ?? 0);
                if (DateTimeOffset.UtcNow - created > HiddenSnapshotGrace && SnapshotName.TryParse(temporary.Name, out var name))
                {
                    changed |= await TryAsync("destroy abandoned group temporary", temporary.Name,
                        () => zfs.DestroySnapshotRecursiveAsync(name, ct)).ConfigureAwait(false);
                }
            }
            if (!changed)
            {
                return;
            }
        }
    }

    private async Task<bool> TryAsync(string what, string name, Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
            _log.Information("Sweep: {Action} {Dataset}", what, name);
            return true;
        }
        catch (Exception e) when (e is Errors.ZfsCsiException)
        {
            // Not now (busy, a clone appeared, gone already): the next sweep tries again.
            _log.Information("Sweep: cannot {Action} {Dataset} yet: {Reason}", what, name, e.Message);
            return false;
        }
    }
}
