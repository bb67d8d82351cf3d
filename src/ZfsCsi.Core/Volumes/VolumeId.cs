using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// A volume id as the CO sees it: the full name of the volume's dataset, e.g. <c>data/k8s/pvc-1</c>.
/// It names the pool and parent, so an id from another pool or parent is recognisably not ours,
/// and it is at most parent (≤ 64 bytes, checked at start-up) + 1 + leaf (≤ 63) bytes: within the
/// CSI spec's 128-byte limit for ids (Size Limits).
/// </summary>
public readonly record struct VolumeId(DatasetName Dataset)
{
    public const int MaxLength = 128;

    public string Value => Dataset.Value;

    /// <summary>
    /// The dataset an id names, when it is a well-formed id of a volume under <paramref name="parent"/>;
    /// null otherwise. Per the CSI spec a volume id is opaque: an id that is not ours names a volume
    /// that does not exist (NOT_FOUND, or OK for DeleteVolume), not a malformed request.
    /// </summary>
    public static VolumeId? TryParse(string id, DatasetName parent) =>
        id.Length <= MaxLength
        && DatasetName.TryParse(id, out var dataset, out _)
        && dataset.IsDirectChildOf(parent)
        && VolumeNaming.IsPlain(dataset.Leaf)
            ? new VolumeId(dataset)
            : null;

    public override string ToString() => Value;
}
