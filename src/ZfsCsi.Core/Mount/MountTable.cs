namespace ZfsCsi.Core.Mount;

/// <summary>
/// The mounts this process sees, from /proc/self/mountinfo, with the lookups the node needs.
/// Reading mountinfo never calls into a FUSE daemon, so it is safe on a dead SSHFS mount.
/// </summary>
public sealed class MountTable(IReadOnlyList<MountEntry> entries)
{
    public IReadOnlyList<MountEntry> Entries { get; } = entries;

    public static MountTable Read(INodeKernel kernel) => new(MountInfoParser.Parse(kernel.ReadMountInfo()));

    /// <summary>Mounts exactly at <paramref name="path"/>, bottom first (the last one is what the path shows).</summary>
    public IReadOnlyList<MountEntry> At(string path) => Entries.Where(e => e.MountPoint == path).ToList();

    /// <summary>The mount <paramref name="path"/> is in: the longest mount point that is a prefix of it (the top one when stacked).</summary>
    public MountEntry? Containing(string path) =>
        Entries.Where(e => IsWithin(path, e.MountPoint)).OrderBy(e => e.MountPoint.Length).LastOrDefault();

    /// <summary>
    /// Where a directory comes from as mountinfo would show a bind of it: the containing mount's
    /// filesystem (device, source) and the path inside that filesystem.
    /// </summary>
    public BindSource? SourceOf(string path)
    {
        if (Containing(path) is not { } mount)
        {
            return null;
        }
        var rest = path.Length > mount.MountPoint.Length ? path[mount.MountPoint.TrimEnd('/').Length..] : "";
        var root = mount.Root == "/" ? (rest == "" ? "/" : rest) : mount.Root + rest;
        return new BindSource(mount, root);
    }

    public static bool IsWithin(string path, string mountPoint) =>
        mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);
}

/// <summary>A directory as a bind of it appears in mountinfo: the filesystem it lives on and its path inside it.</summary>
public sealed record BindSource(MountEntry Mount, string Root)
{
    /// <summary>A bind at a target of this directory, made from the current mount of its filesystem.</summary>
    public bool IsCurrentBind(MountEntry entry) => IsBindOfSameDirectory(entry) && entry.Device == Mount.Device;

    /// <summary>
    /// A bind of this directory (same source and path inside it), possibly of an earlier instance
    /// of the filesystem: after SSHFS is remounted, old binds keep the dead instance's device.
    /// </summary>
    public bool IsBindOfSameDirectory(MountEntry entry) =>
        entry.Root == Root && entry.Source == Mount.Source && entry.FsType == Mount.FsType;
}
