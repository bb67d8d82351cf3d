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
        ["sync"] = Native.MsSynchronous,
        ["dirsync"] = Native.MsDirsync,
        // Binds always carry these; accepted so StorageClasses written for other drivers still work.
        ["defaults"] = 0,
        ["bind"] = 0,
    };

    /// <summary>The flag names as mountinfo's per-mount options show them (ro/rw aside).</summary>
    private static readonly (ulong Flag, string Name)[] Shown =
    [
        (Native.MsNosuid, "nosuid"), (Native.MsNodev, "nodev"), (Native.MsNoexec, "noexec"),
        (Native.MsNoatime, "noatime"), (Native.MsNodiratime, "nodiratime"), (Native.MsSynchronous, "sync"),
        (Native.MsDirsync, "dirsync"),
    ];

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
                if (!Known.TryGetValue(name, out var flag))
                {
                    throw new InvalidInputException(
                        $"mount flag '{Printable.Of(name)}' is not supported for a bind mount; supported: {string.Join(", ", Known.Keys)}");
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
        return new MountFlags(flags, names);
    }

    /// <summary>
    /// Whether an existing mount's per-mount options (mountinfo field 6) say exactly these flags,
    /// after <paramref name="inherited"/> (what the bind always carries from /data, e.g. SSHFS's nosuid,nodev).
    /// </summary>
    public bool Matches(IReadOnlySet<string> mountOptions, ulong inherited)
    {
        if (mountOptions.Contains("ro") != ReadOnly)
        {
            return false;
        }
        var wanted = Flags | inherited;
        foreach (var (flag, name) in Shown)
        {
            if (((wanted & flag) != 0) != mountOptions.Contains(name))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The per-mount flags an existing mount shows, as mount(2) bits (to keep them on a remount).</summary>
    public static ulong FromMountOptions(IReadOnlySet<string> mountOptions)
    {
        ulong flags = 0;
        foreach (var (flag, name) in Shown)
        {
            if (mountOptions.Contains(name))
            {
                flags |= flag;
            }
        }
        return flags;
    }

    /// <summary>Flags that need the second, remount step (MS_BIND alone ignores them).</summary>
    public bool NeedsRemount(ulong inherited) => (Flags | inherited) != 0;

}
