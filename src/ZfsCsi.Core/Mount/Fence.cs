using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// What the node leaves at a target whose bind it had to cut (the volume's dataset was not
/// mounted on the pool's host, so the bind showed the parent dataset's directory): an empty,
/// read-only tmpfs. Writes there fail (EROFS) instead of landing on the node's disk, and the
/// mount's source names the volume, so stats and health can tell a fenced publish from a missing
/// one even after a plugin restart, and NodePublishVolume replaces it once the dataset is back.
/// </summary>
public static class Fence
{
    public const string FsType = "tmpfs";
    private const string SourcePrefix = "zfs-csi-fenced:";

    /// <summary>Empty, unwritable, nothing to run: a mount that only says "cut off".</summary>
    public const ulong MountFlags = Native.MsRdonly | Native.MsNosuid | Native.MsNodev | Native.MsNoexec;
    public const string MountData = "size=4k,nr_inodes=16,mode=0555";

    public static string SourceFor(string volumeId) => SourcePrefix + volumeId;

    public static bool Is(MountEntry entry) =>
        entry.FsType == FsType && entry.Source.StartsWith(SourcePrefix, StringComparison.Ordinal);

    /// <summary>The volume a fence was left for.</summary>
    public static string VolumeOf(MountEntry entry) => entry.Source[SourcePrefix.Length..];
}

/// <summary>
/// A publish path whose bind the node cut because the dataset was not mounted on the pool's host.
/// UNAVAILABLE: the volume is there but cannot be reached through this path until it is published
/// again (CSI spec, NodeGetVolumeStats: the CO may retry; kubelet republishes on pod restart).
/// </summary>
public sealed class VolumeFencedException(string message) : ZfsCsiException(ErrorKind.Unavailable, message);
