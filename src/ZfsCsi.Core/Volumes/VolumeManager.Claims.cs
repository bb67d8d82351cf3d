using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>The dataset that contains the claims dataset, and held the claims before they moved down: <c>&lt;parent&gt;/SnapshotNames</c>.</summary>
    private DatasetName ClaimsContainer => Parent.Child(SnapshotNaming.ClaimsDatasetLeaf);

    /// <summary>The dataset that holds snapshot-name claims, <c>&lt;parent&gt;/SnapshotNames/Claims</c>.</summary>
    private DatasetName ClaimsDataset => ClaimsContainer.Child(SnapshotNaming.ClaimsLeaf);

    /// <summary>The claim of a CSI snapshot name (<see cref="SnapshotNaming.ClaimLeafFor"/>).</summary>
    public SnapshotName ClaimFor(string name) => SnapshotName.Of(ClaimsDataset, SnapshotNaming.ClaimLeafFor(name));

    /// <summary>
    /// Where an earlier release kept the claim of a CSI snapshot name: a snapshot of
    /// <c>&lt;parent&gt;/SnapshotNames</c> itself. Still honoured by CreateSnapshot until the sweep
    /// has moved it (<see cref="SweepClaimsAsync"/>).
    /// </summary>
    public SnapshotName EarlierClaimFor(string name) =>
        SnapshotName.Of(ClaimsContainer, SnapshotNaming.ClaimLeafFor(name));

    /// <summary>
    /// Runs <paramref name="take"/> (a snapshot that includes a claim); when the claims dataset does
    /// not exist yet, makes it (canmount=off: it holds nothing but snapshots, and never mounts) and
    /// runs it once more. A dataset that is still missing then (the source volume went) fails as before.
    /// </summary>
    internal async Task<T> WithClaimsDatasetAsync<T>(Func<Task<T>> take, CancellationToken ct)
    {
        try
        {
            return await take().ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            foreach (var dataset in new[] { ClaimsContainer, ClaimsDataset })
            {
                try
                {
                    await zfs.CreateAsync(dataset, [new("canmount", "off")], ct).ConfigureAwait(false);
                    _log.Information("Made {ClaimsDataset}, which holds the snapshot names' claims", dataset.Value);
                }
                catch (DatasetExistsException)
                {
                    // Made meanwhile or by an earlier release, or it was the source that was
                    // missing: the second try tells.
                }
            }
            return await take().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The sweep's part in snapshot-name claims (<see cref="SnapshotNaming.ClaimLeafFor"/>), from its
    /// listing: a claim whose snapshot is no longer live (deleted, or never taken by a crashed
    /// CreateSnapshot) is destroyed; a live
    /// CSI snapshot without a claim (taken before claims existed) gets one, so its name is held;
    /// a claim where an earlier release kept it (<see cref="EarlierClaimFor"/>) is destroyed once
    /// the name's claim exists at its place, so claims move there within two sweeps and a name is
    /// held at every moment. All under the name's lock: a CreateSnapshot of that name holds it
    /// while it reads and takes the claim, and a held lock leaves the claim to it.
    /// </summary>
    private async Task<bool> SweepClaimsAsync(IReadOnlyList<DatasetProperties> rows, CancellationToken ct)
    {
        var prefix = ClaimsDataset.Value + "@" + SnapshotNaming.ClaimPrefix;
        var earlierPrefix = ClaimsContainer.Value + "@" + SnapshotNaming.ClaimPrefix;
        var claims = rows.Where(r =>
                r.Name.StartsWith(prefix, StringComparison.Ordinal)
                || r.Name.StartsWith(earlierPrefix, StringComparison.Ordinal)
            )
            .ToDictionary(r => r.Name, StringComparer.Ordinal);
        var live = new Dictionary<string, string>(StringComparer.Ordinal);
        var datasets = rows.Where(r => !r.IsSnapshot).ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (
            var snapshot in rows.Where(r => Inventory.IsLiveCsiSnapshot(r) && r.LocalValue(Markers.CsiName) is not null)
        )
        {
            // Only snapshots on volumes of ours that got past CreateVolume: CreateSnapshot takes none
            // of a half-made one, so a snapshot there is a person's, and left to that person.
            if (
                CsiVolumeOf(Inventory.DatasetOf(snapshot.Name)) is { } volume
                && datasets.TryGetValue(Inventory.DatasetOf(snapshot.Name), out var owner)
                && IsOurs(owner)
                && owner.LocalValue(Markers.State) != Markers.StateCreating
            )
            {
                live[$"{volume.Value}@{Inventory.LeafOf(snapshot.Name)}"] = snapshot.LocalValue(Markers.CsiName)!;
            }
        }
        var changed = false;
        foreach (var claim in claims.Values)
        {
            var holder = claim.LocalValue(Markers.SnapshotId);
            if (
                !SnapshotName.TryParse(claim.Name, out var claimName)
                || Markers.DecodeName(claim.LocalValue(Markers.CsiName)) is not { } csiName
            )
            {
                continue;
            }
            var holds =
                holder is not null
                && live.TryGetValue(holder, out var name)
                && name == claim.LocalValue(Markers.CsiName);
            // An earlier claim is moved when the name's claim at its place names the same holder
            // (an earlier claim that disagrees is kept while its holder is live, else stale).
            var moved =
                claim.Name.StartsWith(earlierPrefix, StringComparison.Ordinal)
                && claims.TryGetValue(ClaimFor(csiName).Value, out var current)
                && current.LocalValue(Markers.SnapshotId) == holder;
            if (holds && !moved)
            {
                continue;
            }
            using var held = locks.TryAcquire(SnapshotNaming.NameLockKey(csiName));
            if (held is null)
            {
                continue;
            }
            if (moved)
            {
                // Read again under the lock: the name's claim is at its place with the same holder,
                // so the earlier one holds nothing it does not (CreateSnapshot honours both).
                if (
                    await zfs.TryGetAsync(ClaimFor(csiName), [Markers.SnapshotId], ct).ConfigureAwait(false)
                        is not { } now
                    || now.LocalValue(Markers.SnapshotId) != holder
                )
                {
                    continue;
                }
                changed |= await DestroyEarlierClaimAsync(claimName, ct).ConfigureAwait(false);
                continue;
            }
            // Again under the lock: since the listing, a CreateSnapshot of this name may have taken
            // the claim over (made anew: another creation time or another holder; creation has
            // one-second resolution and zfs-fuse has no guid property) or taken its snapshot at its
            // own name (a retry that found the claim of a crashed try; a holder elsewhere, on a
            // retained dataset, was live at the listing already). Two names, not a listing.
            if (
                await zfs.TryGetAsync(claimName, ["creation", Markers.SnapshotId], ct).ConfigureAwait(false)
                    is not { } again
                || again.Value("creation") != claim.Value("creation")
                || again.LocalValue(Markers.SnapshotId) != holder
                || (
                    holder is not null
                    && SnapshotId.TryParse(holder, Parent) is { } holderId
                    && (
                        await zfs.GetExistingAsync([holderId.Volume.Value, holderId.Value], Inventory.Properties, ct)
                            .ConfigureAwait(false)
                    ).Any(r => r.Name == holderId.Value && Inventory.IsLiveCsiSnapshot(r))
                )
            )
            {
                continue;
            }
            changed |= await TryAsync("destroy stale snapshot name claim", claim.Name, () =>
                    zfs.DestroySnapshotDeferredAsync(claimName, ct)
                )
                .ConfigureAwait(false);
        }
        foreach (var (id, encoded) in live)
        {
            if (Markers.DecodeName(encoded) is not { } csiName || claims.ContainsKey(ClaimFor(csiName).Value))
            {
                continue;
            }
            using var held = locks.TryAcquire(SnapshotNaming.NameLockKey(csiName));
            if (held is null)
            {
                continue;
            }
            var claim = ClaimFor(csiName);
            var claimed = await TryAsync("claim the name of snapshot " + id, claim.Value, () => WithClaimsDatasetAsync(
                        async () =>
                        {
                            await zfs.SnapshotAsync(
                                    claim,
                                    [new(Markers.CsiName, encoded), new(Markers.SnapshotId, id)],
                                    ct
                                )
                                .ConfigureAwait(false);
                            return true;
                        },
                        ct
                    ))
                .ConfigureAwait(false);
            changed |= claimed;
            // Still under the lock, the name now claimed at its place: the claim an earlier release
            // made for it goes in the same sweep.
            var earlier = EarlierClaimFor(csiName);
            if (claimed && claims.ContainsKey(earlier.Value))
            {
                await DestroyEarlierClaimAsync(earlier, ct).ConfigureAwait(false);
            }
        }
        return changed;
    }

    /// <summary>Destroys a claim kept where an earlier release kept claims; the caller holds the name's lock and the name is claimed at its place.</summary>
    private Task<bool> DestroyEarlierClaimAsync(SnapshotName claim, CancellationToken ct) =>
        TryAsync("destroy a snapshot name claim kept where an earlier release kept claims", claim.Value, () =>
            zfs.DestroySnapshotDeferredAsync(claim, ct)
        );
}
