namespace ZfsCsi.Core.Mount;

/// <summary>
/// One line of /proc/self/mountinfo (proc(5)): <paramref name="Root"/> is the path inside the
/// filesystem that is mounted (a bind of /data/k8s/v shows /k8s/v), <paramref name="Device"/> the
/// filesystem's major:minor, which a bind shares with the mount it was made from.
/// </summary>
public sealed record MountEntry(
    int Id,
    int ParentId,
    string Device,
    string Root,
    string MountPoint,
    IReadOnlySet<string> MountOptions,
    string FsType,
    string Source,
    IReadOnlySet<string> SuperOptions
)
{
    public bool ReadOnly => MountOptions.Contains("ro");

    public bool IsSshfs => FsType == "fuse.sshfs";

    public bool IsZfs => FsType is "zfs" or "fuse.zfs";
}
