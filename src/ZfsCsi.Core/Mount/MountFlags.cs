using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// The mount_flags a publish may ask for (CSI spec, MountVolume.mount_flags; StorageClass
/// mountOptions), as mount(2) flags of the bind. A bind carries per-mount flags only, so only
/// those are accepted; anything else (a filesystem option, a typo) is INVALID_ARGUMENT rather than
/// silently ignored, because a pod that asked for noexec must not run with exec.
/// </summary>
public sealed record MountFlags(ulong Flags, IReadOnlyList<string> Names)
{
    public static readonly MountFlags None = new(0, []);

    private static readonly Dictionary<string, ulong> Known = new(StringComparer.Ordinal)
    {
        ["ro"] = Native.MsRdonly,
        ["rw"] = 0,
        ["noexec"] = Native.MsNoexec,
        ["nosuid"] = Native.MsNosuid,
        ["nodev"] = Native.MsNodev,
        ["noatime"] = Native.MsNoatime,
        ["nodiratime"] = Native.MsNodiratime,
        ["relatime"] = Native.MsRelatime,
        ["strictatime"] = Native.MsStrictatime,
        // Binds always carry these; accepted so StorageClasses written for other drivers still work.
        ["defaults"] = 0,
        ["bind"] = 0,
    };

    /// <summary>
    /// Flags that look per-mount but are not: MS_SYNCHRONOUS and MS_DIRSYNC belong to the
    /// filesystem (superblock), and a bind remount (MS_REMOUNT|MS_BIND) only changes per-mount
    /// flags, so the kernel drops them silently. Accepting them would give the pod asynchronous
    /// writes while the request says otherwise, and a retry could never match (mountinfo's
    /// per-mount options never show them), so it would answer ALREADY_EXISTS.
    /// </summary>
    private static readonly Dictionary<string, string> Refused = new(StringComparer.Ordinal)
    {
        ["sync"] = "MS_SYNCHRONOUS",
        ["dirsync"] = "MS_DIRSYNC",
    };

    /// <summary>
    /// The per-mount access flags a bind shows in mountinfo and keeps from its source (atime aside).
    /// ro among them: a bind of a read-only mount (a dataset with readonly=on, whose superblock is
    /// read-only) is read-only whatever the publish asked, and mountinfo shows it so.
    /// </summary>
    private static readonly (ulong Flag, string Name)[] Access =
    [
        (Native.MsRdonly, "ro"),
        (Native.MsNosuid, "nosuid"),
        (Native.MsNodev, "nodev"),
        (Native.MsNoexec, "noexec"),
    ];

    private const ulong AtimeBits = Native.MsNoatime | Native.MsNodiratime | Native.MsRelatime | Native.MsStrictatime;

    public bool ReadOnly => (Flags & Native.MsRdonly) != 0;

    /// <summary>Maps the request's flags; <paramref name="readOnly"/> (the request's readonly field) adds MS_RDONLY.</summary>
    public static MountFlags Parse(IEnumerable<string> requested, bool readOnly)
    {
        ulong flags = readOnly ? Native.MsRdonly : 0;
        var names = new List<string>();
        foreach (var raw in requested)
        {
            // kubectl and StorageClass mountOptions may pass "a,b" as one entry.
            foreach (var name in raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (Refused.TryGetValue(name, out var superFlag))
                {
                    throw new InvalidInputException(
                        $"mount flag '{name}' cannot be applied to a bind mount: {superFlag} is a filesystem-wide flag and a bind remount only changes per-mount flags, "
                            + "so the volume would not be synchronous although the request says so; for synchronous writes set the dataset's ZFS property sync=always instead"
                    );
                }
                if (!Known.TryGetValue(name, out var flag))
                {
                    throw new InvalidInputException(
                        $"mount flag '{Printable.Of(name)}' is not supported for a bind mount; supported: {string.Join(", ", Known.Keys)}"
                    );
                }
                if (name == "rw" && readOnly)
                {
                    throw new InvalidInputException("mount flag 'rw' contradicts the read-only publish");
                }
                flags |= flag;
                names.Add(name);
            }
        }
        if ((flags & Native.MsRdonly) != 0 && names.Contains("rw"))
        {
            throw new InvalidInputException("mount flags 'ro' and 'rw' contradict each other");
        }
        // A mount has one atime mode; the kernel would silently let strictatime win.
        var modes = names.Where(n => n is "noatime" or "relatime" or "strictatime").Distinct().ToList();
        if (modes.Count > 1)
        {
            throw new InvalidInputException(
                $"mount flags '{modes[0]}' and '{modes[1]}' contradict each other: a mount has one atime mode"
            );
        }
        return new MountFlags(flags, names);
    }

    /// <summary>
    /// Whether an existing bind's per-mount options (mountinfo field 6) are exactly what a bind
    /// with these flags of a directory on a mount with <paramref name="sourceOptions"/> shows:
    /// the source's ro/nosuid/nodev/noexec plus the requested ones, and the same atime mode. Used
    /// for the CSI spec's NodePublishVolume idempotency (same request: OK; the same target with
    /// other flags: ALREADY_EXISTS): a read-write publish of a read-only dataset made a read-only
    /// bind, and its retry must find it the same.
    /// </summary>
    public bool Matches(IReadOnlySet<string> mountOptions, IReadOnlySet<string> sourceOptions)
    {
        var wanted = Flags | Kept(sourceOptions);
        foreach (var (flag, name) in Access)
        {
            if (((wanted & flag) != 0) != mountOptions.Contains(name))
            {
                return false;
            }
        }
        return ExpectedAtime(sourceOptions) == AtimeOf(mountOptions);
    }

    /// <summary>
    /// The flags of the remount step: the requested ones plus the source's ro/nosuid/nodev/noexec
    /// (a bind never gets more rights than the mount it is made from: a remount without MS_RDONLY
    /// would make the bind of a read-only mount writable). Atime bits come only from
    /// the request: without any, the kernel keeps the bind's own (copied from its source).
    /// </summary>
    public ulong RemountFlags(IReadOnlySet<string> sourceOptions) => Flags | Kept(sourceOptions);

    /// <summary>Flags that need the second, remount step (MS_BIND alone ignores them and copies the source's).</summary>
    public bool NeedsRemount => Flags != 0;

    /// <summary>The source's per-mount access flags as mount(2) bits.</summary>
    public static ulong Kept(IReadOnlySet<string> sourceOptions)
    {
        ulong flags = 0;
        foreach (var (flag, name) in Access)
        {
            if (sourceOptions.Contains(name))
            {
                flags |= flag;
            }
        }
        return flags;
    }

    /// <summary>
    /// The atime mode the bind will have, as the kernel decides it (fs/namespace.c, path_mount):
    /// a remount naming no atime flag keeps the bind's, which a fresh bind copies from its source;
    /// one naming any sets exactly those, relatime being the default mode.
    /// </summary>
    private (string Mode, bool NoDirAtime) ExpectedAtime(IReadOnlySet<string> sourceOptions)
    {
        if ((Flags & AtimeBits) == 0)
        {
            return AtimeOf(sourceOptions);
        }
        var mode =
            (Flags & Native.MsStrictatime) != 0 ? "strictatime"
            : (Flags & Native.MsNoatime) != 0 ? "noatime"
            : "relatime";
        return (mode, (Flags & Native.MsNodiratime) != 0);
    }

    /// <summary>A mount's atime mode from its mountinfo options: noatime, relatime, or neither (strictatime).</summary>
    private static (string Mode, bool NoDirAtime) AtimeOf(IReadOnlySet<string> options) =>
        (
            options.Contains("noatime") ? "noatime"
            : options.Contains("relatime") ? "relatime"
            : "strictatime",
            options.Contains("nodiratime")
        );
}
