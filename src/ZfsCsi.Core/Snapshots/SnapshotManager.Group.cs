using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Snapshots;

public sealed partial class SnapshotManager
{
    /// <summary>
    /// Whether this zfs takes several snapshot names in one command (OpenZFS) or not (zfs-fuse):
    /// learnt from the first group snapshot of more than one volume, not assumed. Null: not known yet.
    /// </summary>
    private bool? _multiSnapshot;

    /// <summary>True when the installed zfs takes several names in one <c>zfs snapshot</c>; null until a group snapshot found out.</summary>
    internal bool? SupportsMultiSnapshot => _multiSnapshot;

    /// <summary>A group id is <c>&lt;parent&gt;@g-&lt;digest&gt;</c>; each member is <c>&lt;volume&gt;@g-&lt;digest&gt;</c>.</summary>
    public string GroupIdFor(string groupLeaf) => SnapshotName.Of(Parent, groupLeaf).Value;

    /// <summary>The id a group snapshot of this CSI name has (or will have): what its create and its delete both lock.</summary>
    public string GroupIdForName(string name) => GroupIdFor(SnapshotNaming.GroupLeafFor(name));

    private string? ParseGroupId(string id)
    {
        var prefix = Parent.Value + "@g-";
        return
            id.StartsWith(prefix, StringComparison.Ordinal)
            && id.Length == prefix.Length + 24
            && id[prefix.Length..].All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f')
            ? id[(Parent.Value.Length + 1)..]
            : null;
    }

    /// <summary>
    /// What CreateVolumeGroupSnapshot checks before anything is looked up or locked (CSI spec:
    /// REQUIRED fields, Size Limits): a name (at most 128 bytes), at least one source volume id,
    /// none empty or named twice, no parameters of ours. INVALID_ARGUMENT whatever the ids name.
    /// Returns the leaf every member gets.
    /// </summary>
    public static string CheckCreateGroupRequest(
        string name,
        IReadOnlyList<string> sourceVolumeIds,
        IReadOnlyDictionary<string, string> parameters
    )
    {
        var leaf = SnapshotNaming.GroupLeafFor(name);
        if (sourceVolumeIds.Count == 0)
        {
            throw new InvalidInputException("source_volume_ids is required: name at least one volume to snapshot");
        }
        if (sourceVolumeIds.Any(string.IsNullOrEmpty))
        {
            throw new InvalidInputException("source_volume_ids holds an empty volume id");
        }
        if (sourceVolumeIds.GroupBy(v => v, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new InvalidInputException(
                $"source_volume_ids names volume '{Printable.Of(duplicate.Key)}' more than once"
            );
        }
        SnapshotParameters.Validate(parameters);
        return leaf;
    }

    /// <summary>
    /// What DeleteVolumeGroupSnapshot and GetVolumeGroupSnapshot check before anything is looked up
    /// or locked: a group snapshot id, and no empty entry in snapshot_ids. An empty snapshot_ids is
    /// accepted although the spec marks it REQUIRED: csi-sanity (v5.5) deletes and gets unknown
    /// groups without it and expects OK and NOT_FOUND, and the members are found by the group id.
    /// </summary>
    public static void CheckGroupIdRequest(string groupSnapshotId, IReadOnlyCollection<string> snapshotIds)
    {
        if (string.IsNullOrEmpty(groupSnapshotId))
        {
            throw new InvalidInputException("group_snapshot_id is required");
        }
        if (snapshotIds.Any(string.IsNullOrEmpty))
        {
            throw new InvalidInputException("snapshot_ids holds an empty snapshot id");
        }
    }

    /// <summary>
    /// CreateVolumeGroupSnapshot (CSI spec): every member at one instant in ONE atomic ZFS operation,
    /// so the group is crash-consistent across volumes. OpenZFS: <c>zfs snapshot a@g b@g</c>.
    /// zfs-fuse takes one name per command, so <c>zfs snapshot -r parent@Tmp-g</c> (atomic over the
    /// whole parent), then the members' snapshots are renamed to their final leaf and the rest
    /// destroyed with one <c>zfs destroy -r parent@Tmp-g</c>. Idempotent by name; the same name with
    /// other members is ALREADY_EXISTS; a duplicate member INVALID_ARGUMENT, a missing one NOT_FOUND.
    /// </summary>
    public async Task<GroupSnapshot> CreateGroupAsync(
        string name,
        IReadOnlyList<string> sourceVolumeIds,
        IReadOnlyDictionary<string, string> parameters,
        CancellationToken ct
    )
    {
        var leaf = CheckCreateGroupRequest(name, sourceVolumeIds, parameters);
        var encoded = Markers.EncodeName(name);
        var groupId = GroupIdFor(leaf);
        var requested = sourceVolumeIds.ToHashSet(StringComparer.Ordinal);
        var temporary = SnapshotName.Of(Parent, SnapshotNaming.GroupTemporaryLeaf(leaf));

        var rows = await ListRowsAsync(Parent, ct).ConfigureAwait(false);
        var existing = MembersOf(leaf, rows).ToList();
        var leftover = rows.Any(r => r.Name == temporary.Value);
        if (existing.Count > 0)
        {
            if (existing.Any(m => m.LocalValue(Markers.Group) != encoded))
            {
                throw new AlreadyExistsException($"group snapshot {groupId} exists for another name");
            }
            var members = existing.Select(m => IdOf(m.Name)!.Value.Volume.Value).ToHashSet(StringComparer.Ordinal);
            if (members.SetEquals(requested) && !leftover)
            {
                // A crash after the snapshot but before the sizes were recorded is finished here.
                await MarkCapacitiesAsync(leaf, rows, ct).ConfigureAwait(false);
                return ToGroup(leaf, rows);
            }
            if (!leftover || !members.IsSubsetOf(requested))
            {
                throw new AlreadyExistsException(
                    $"group snapshot '{Printable.Of(name)}' already exists with other source volumes ({string.Join(", ", members.Order(StringComparer.Ordinal))})"
                );
            }
        }
        if (leftover || existing.Count > 0)
        {
            // A crashed earlier try that was never reported: start again, so all members share one instant.
            foreach (var member in existing)
            {
                await zfs.DestroySnapshotDeferredAsync(
                        SnapshotName.Of(DatasetName.Parse(Inventory.DatasetOf(member.Name)), leaf),
                        ct
                    )
                    .ConfigureAwait(false);
            }
            await DestroyTemporaryAsync(temporary, ct).ConfigureAwait(false);
            rows = await ListRowsAsync(Parent, ct).ConfigureAwait(false);
        }

        var volumeIds = new List<VolumeId>();
        foreach (var sourceId in sourceVolumeIds)
        {
            var volume = ReadyVolumeIn(rows, sourceId)
                ?? throw new NotFoundException(
                    $"source volume '{Printable.Of(sourceId)}' of group snapshot '{Printable.Of(name)}' does not exist"
                );
            if (volume.Value.Length + 1 + leaf.Length > SnapshotId.MaxLength)
            {
                throw new FailedPreconditionException(
                    $"volume id {volume} is too long for its snapshot ids to fit the CSI spec's {SnapshotId.MaxLength} bytes"
                );
            }
            var snapshot = SnapshotName.Of(volume.Dataset, leaf);
            if (rows.FirstOrDefault(r => r.Name == snapshot.Value) is { } there)
            {
                await ClearLeafAsync(snapshot, there, ct).ConfigureAwait(false);
            }
            volumeIds.Add(volume);
        }

        KeyValuePair<string, string>[] markers = [new(Markers.Group, encoded)];
        var names = volumeIds.Select(v => SnapshotName.Of(v.Dataset, leaf)).ToList();
        try
        {
            if (names.Count == 1)
            {
                await zfs.SnapshotAsync(names[0], markers, ct).ConfigureAwait(false);
            }
            else if (
                _multiSnapshot != false
                && await zfs.TrySnapshotManyAsync(names, markers, ct).ConfigureAwait(false)
            )
            {
                _multiSnapshot = true;
            }
            else
            {
                if (_multiSnapshot is null)
                {
                    _log.Information(
                        "This zfs takes one snapshot name per command; group snapshots use zfs snapshot -r of {ParentDataset}",
                        Parent.Value
                    );
                }
                _multiSnapshot = false;
                await SnapshotThroughParentAsync(temporary, names, markers, ct).ConfigureAwait(false);
            }
        }
        catch (ZfsOutOfSpaceException e)
        {
            throw new OutOfSpaceException(
                $"pool {Parent.Pool} has no room for group snapshot '{Printable.Of(name)}': {e.StandardError.Trim()}"
            );
        }
        _log.Information(
            "Took group snapshot {GroupSnapshotId} of {Count} volumes for name {GroupSnapshotName}",
            groupId,
            names.Count,
            name
        );
        // One listing after the snapshot: it finds the members, and their sizes come out the same
        // whether read from the markers set now or from their volumes' capacity in this listing.
        var taken = await ListRowsAsync(Parent, ct).ConfigureAwait(false);
        await MarkCapacitiesAsync(leaf, taken, ct).ConfigureAwait(false);
        return ToGroup(leaf, taken);
    }

    /// <summary>
    /// Records each member's size as its volume's capacity at the time of the group snapshot, as
    /// CreateSnapshot does in its one command (one `zfs snapshot` cannot give members different
    /// values). Without it a member's size_bytes would follow its volume's later expansions, and a
    /// restore at the member's own size would be refused.
    /// </summary>
    private async Task MarkCapacitiesAsync(string leaf, IReadOnlyList<DatasetProperties> rows, CancellationToken ct)
    {
        foreach (var member in MembersOf(leaf, rows).Where(m => m.LocalValue(Markers.Capacity) is null))
        {
            var volume = Inventory.DatasetOf(member.Name);
            if (rows.FirstOrDefault(r => r.Name == volume) is { } row)
            {
                var capacity = VolumeManager
                    .CapacityOf(row)
                    .ToString(System.Globalization.CultureInfo.InvariantCulture);
                await zfs.SetAsync(SnapshotName.Of(DatasetName.Parse(volume), leaf), Markers.Capacity, capacity, ct)
                    .ConfigureAwait(false);
            }
        }
    }

    /// <summary>zfs-fuse's atomic group snapshot: one recursive snapshot, members renamed, the rest destroyed in one command.</summary>
    private async Task SnapshotThroughParentAsync(
        SnapshotName temporary,
        IReadOnlyList<SnapshotName> members,
        KeyValuePair<string, string>[] markers,
        CancellationToken ct
    )
    {
        await zfs.SnapshotRecursiveAsync(temporary, markers, ct).ConfigureAwait(false);
        foreach (var member in members)
        {
            await zfs.RenameSnapshotAsync(SnapshotName.Of(member.Dataset, temporary.Leaf), member, ct)
                .ConfigureAwait(false);
        }
        await DestroyTemporaryAsync(temporary, ct).ConfigureAwait(false);
    }

    private async Task DestroyTemporaryAsync(SnapshotName temporary, CancellationToken ct)
    {
        try
        {
            await zfs.DestroySnapshotRecursiveAsync(temporary, ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            // Nothing left of it.
        }
    }

    /// <summary>GetVolumeGroupSnapshot (CSI spec): NOT_FOUND for an unknown or foreign id; snapshot_ids, when given, must match the members.</summary>
    public async Task<GroupSnapshot> GetGroupAsync(
        string groupId,
        IReadOnlyCollection<string> snapshotIds,
        CancellationToken ct
    )
    {
        CheckGroupIdRequest(groupId, snapshotIds);
        var leaf = ParseGroupId(groupId) ?? throw GroupNotFound(groupId);
        var rows = await ListRowsAsync(Parent, ct).ConfigureAwait(false);
        var group = ToGroup(leaf, rows);
        if (group.Members.Count == 0)
        {
            throw GroupNotFound(groupId);
        }
        if (
            snapshotIds.Count > 0
            && !group.Members.Select(m => m.Id.Value).ToHashSet(StringComparer.Ordinal).SetEquals(snapshotIds)
        )
        {
            throw new InvalidInputException(
                $"snapshot_ids do not match the members of group snapshot {groupId}: {string.Join(", ", group.Members.Select(m => m.Id.Value))}"
            );
        }
        return group;
    }

    /// <summary>
    /// DeleteVolumeGroupSnapshot (CSI spec): every member deleted like DeleteSnapshot (deferred while
    /// volumes made from it exist); OK for an unknown, foreign or already deleted group. A snapshot_ids
    /// list naming fewer than the remaining members, or an id that cannot be one of them, is
    /// INVALID_ARGUMENT, and nothing is deleted.
    /// </summary>
    public async Task DeleteGroupAsync(string groupId, IReadOnlyCollection<string> snapshotIds, CancellationToken ct)
    {
        CheckGroupIdRequest(groupId, snapshotIds);
        if (ParseGroupId(groupId) is not { } leaf)
        {
            _log.Information("Group snapshot id {GroupSnapshotId} is not one of ours; nothing to delete", groupId);
            return;
        }
        var rows = await ListRowsAsync(Parent, ct).ConfigureAwait(false);
        var members = MembersOf(leaf, rows).ToList();
        var given = snapshotIds.ToHashSet(StringComparer.Ordinal);
        if (
            snapshotIds.Count > 0
            && members.FirstOrDefault(m => !given.Contains(IdOf(m.Name)!.Value.Value)) is { } missing
        )
        {
            throw new InvalidInputException(
                $"snapshot_ids does not name member {IdOf(missing.Name)} of group snapshot {groupId}; nothing was deleted"
            );
        }
        // The spec asks for a mismatch to be reported where it can be seen. An id of this group's
        // leaf that is no longer a member was deleted by an earlier try (a retry names it again);
        // anything else cannot have been a member.
        if (given.FirstOrDefault(id => ParseId(id) is not { } s || s.Leaf != leaf) is { } stranger)
        {
            throw new InvalidInputException(
                $"snapshot_ids names '{Printable.Of(stranger, 200)}', which is not a member of group snapshot {groupId}; nothing was deleted"
            );
        }
        foreach (var member in members)
        {
            await DestroyAsync(IdOf(member.Name)!.Value, member, ct).ConfigureAwait(false);
        }
        // A create that crashed half-way on the recursive path may have left its temporary on every
        // dataset under the parent: it goes with the group.
        var temporary = SnapshotName.Of(Parent, SnapshotNaming.GroupTemporaryLeaf(leaf));
        if (rows.Any(r => r.Name == temporary.Value))
        {
            await DestroyTemporaryAsync(temporary, ct).ConfigureAwait(false);
        }
        volumes.RequestSweep();
    }

    private IEnumerable<DatasetProperties> MembersOf(string leaf, IReadOnlyList<DatasetProperties> rows) =>
        rows.Where(r =>
            Inventory.IsLiveCsiSnapshot(r)
            && r.LocalValue(Markers.Group) is not null
            && Inventory.LeafOf(r.Name) == leaf
            && IdOf(r.Name) is not null
        );

    private GroupSnapshot ToGroup(string leaf, IReadOnlyList<DatasetProperties> rows) =>
        new(
            GroupIdFor(leaf),
            MembersOf(leaf, rows)
                .Select(r => ToSnapshot(r, rows))
                .OrderBy(s => s.Id.Value, StringComparer.Ordinal)
                .ToList()
        );

    private static NotFoundException GroupNotFound(string id) =>
        new($"group snapshot '{Printable.Of(id)}' does not exist");
}
