using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Snapshots;

/// <summary>
/// A snapshot id as the CO sees it: the full ZFS snapshot name, <c>&lt;volume dataset&gt;@&lt;leaf&gt;</c>,
/// at most 128 bytes (CSI spec, Size Limits). It names its volume, so no lookup table is needed.
/// </summary>
public readonly record struct SnapshotId(VolumeId Volume, string Leaf)
{
    public const int MaxLength = 128;

    public string Value => $"{Volume.Value}@{Leaf}";

    public SnapshotName Name => SnapshotName.Of(Volume.Dataset, Leaf);

    /// <summary>
    /// The snapshot an id names when it is a well-formed id of ours (a volume under
    /// <paramref name="parent"/>, a leaf the driver's naming produces); null otherwise. Per the CSI
    /// spec ids are opaque: a foreign or malformed id names a snapshot that does not exist.
    /// </summary>
    public static SnapshotId? TryParse(string? id, DatasetName parent)
    {
        if (id is null || id.Length > MaxLength)
        {
            return null;
        }
        var at = id.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != id.LastIndexOf('@'))
        {
            return null;
        }
        var leaf = id[(at + 1)..];
        return VolumeId.TryParse(id[..at], parent) is { } volume && SnapshotNaming.IsListable(leaf)
            ? new SnapshotId(volume, leaf)
            : null;
    }

    public override string ToString() => Value;
}
