using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

/// <summary>Where volumes live. Checked at start-up.</summary>
public sealed class VolumeOptions
{
    /// <summary>Longest parent name, so that parent/leaf fits CSI's 128-byte volume id.</summary>
    public const int MaxParentLength = VolumeId.MaxLength - 1 - VolumeNaming.MaxPlainLength;

    /// <summary>The dataset every volume is created under, one child dataset per volume.</summary>
    public string ParentDataset { get; set; } = "data/k8s";

    public DatasetName Parent => DatasetName.Parse(ParentDataset);
}
