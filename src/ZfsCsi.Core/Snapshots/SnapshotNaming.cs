using System.Security.Cryptography;
using System.Text;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Snapshots;

/// <summary>
/// Maps CSI snapshot and group snapshot names to snapshot leaves, like <see cref="VolumeNaming"/>:
/// a pure function, safe names kept (<c>snapshot-&lt;uuid&gt;</c> stays readable), anything else a
/// digest. The driver's internal snapshots (clone sources, the temporary leaf of a recursive group
/// snapshot) use leaves that start with an upper-case letter, which no mapping produces: they can
/// never be taken for, or collide with, a CSI snapshot.
/// </summary>
public static class SnapshotNaming
{
    /// <summary>Shortest digest kept when an id would pass 128 bytes.</summary>
    private const int MinDigestChars = 16;

    /// <summary>The leaf of the snapshot named <paramref name="name"/> of <paramref name="volume"/>; keeps the id within 128 bytes.</summary>
    public static string LeafFor(string name, VolumeId volume)
    {
        CsiName.Validate(name, "snapshot");
        var room = SnapshotId.MaxLength - volume.Value.Length - 1;
        if (VolumeNaming.IsPlain(name) && name.Length <= room && !name.StartsWith("g-", StringComparison.Ordinal))
        {
            return name;
        }
        var digestChars = Math.Min(32, room - 2);
        if (digestChars < MinDigestChars)
        {
            throw new FailedPreconditionException(
                $"volume id {volume} is too long for its snapshot ids to fit the CSI spec's {SnapshotId.MaxLength} bytes"
            );
        }
        return "h-" + Digest(name)[..digestChars];
    }

    /// <summary>The leaf every member of a group snapshot shares: <c>g-</c> and a digest of the group's name.</summary>
    public static string GroupLeafFor(string name)
    {
        CsiName.Validate(name, "group snapshot");
        return "g-" + Digest(name)[..24];
    }

    /// <summary>The temporary leaf a recursive group snapshot is taken under before members are renamed.</summary>
    public static string GroupTemporaryLeaf(string groupLeaf) => "Tmp-" + groupLeaf;

    /// <summary>The driver's own snapshot of a source volume for the clone into <paramref name="targetLeaf"/>.</summary>
    public static string CloneSourceLeaf(string targetLeaf) => "Clone-" + targetLeaf;

    /// <summary>The target volume's leaf of a clone-source snapshot leaf, or null when it is not one.</summary>
    public static string? CloneTargetLeaf(string leaf) =>
        leaf.StartsWith("Clone-", StringComparison.Ordinal) ? leaf["Clone-".Length..] : null;

    /// <summary>
    /// The leaf of a CSI snapshot name's claim: a snapshot of the claims dataset,
    /// <c>&lt;parent&gt;/SnapshotNames/Claims@Name-&lt;SHA-256 of the name&gt;</c>. ZFS keeps snapshot names unique per
    /// dataset, so the claim makes a name unique across every volume, and finding which snapshot holds
    /// a name is one lookup by name instead of a search of the whole inventory (see
    /// <see cref="SnapshotManager"/>). The full digest, never the name itself: two names never share a
    /// claim. A dataset of their own two levels below the parent, not the parent: a listing of the
    /// parent's children (<c>zfs get -d 1</c>, ListVolumes) or of the volumes and their snapshots
    /// (<c>zfs get -d 2</c>, ListSnapshots) never visits a claim, and zfs's cost is per object visited.
    /// </summary>
    public static string ClaimLeafFor(string name)
    {
        CsiName.Validate(name, "snapshot");
        return ClaimPrefix + Digest(name);
    }

    /// <summary>The key of the per-name lock CreateSnapshot holds, and the sweep takes before it touches that name's claim.</summary>
    public static string NameLockKey(string name) => "snapshot-name:" + name;

    /// <summary>
    /// The leaf of the parent's child that contains the claims dataset (upper case: never a volume),
    /// made with canmount=off when first needed. Releases before the claims moved one level down
    /// kept the claims as snapshots of this dataset itself (<c>&lt;parent&gt;/SnapshotNames@Name-…</c>):
    /// those are still honoured, and the sweep moves each to <see cref="ClaimsLeaf"/>.
    /// </summary>
    public const string ClaimsDatasetLeaf = "SnapshotNames";

    /// <summary>The leaf of the claims dataset under <see cref="ClaimsDatasetLeaf"/>: <c>&lt;parent&gt;/SnapshotNames/Claims</c>.</summary>
    public const string ClaimsLeaf = "Claims";

    /// <summary>What every claim's leaf starts with (upper case: never a CSI snapshot's leaf).</summary>
    public const string ClaimPrefix = "Name-";

    /// <summary>
    /// <c>Deleted-&lt;unix ms&gt;-&lt;leaf&gt;</c>: the leaf of a deferred-destroyed snapshot, or of a kept
    /// volume, moved out of the way of a new one of the same name. Never plain, so never listed and
    /// never accepted as an id; unique per move; it keeps the original leaf.
    /// </summary>
    public static string RetiredLeaf(string leaf, DateTimeOffset now)
    {
        var retired =
            $"{RetiredPrefix}{now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)}-{leaf}";
        return retired[..Math.Min(200, retired.Length)];
    }

    /// <summary>What every retired leaf (a deleted snapshot's, a kept volume's moved aside) starts with.</summary>
    public const string RetiredPrefix = "Deleted-";

    /// <summary>A leaf the mappings above produce for CSI snapshots and group members (the only ones ever listed).</summary>
    public static bool IsListable(string leaf) => VolumeNaming.IsPlain(leaf);

    private static string Digest(string name) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
}
