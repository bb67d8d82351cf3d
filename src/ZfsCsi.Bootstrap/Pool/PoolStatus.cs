namespace ZfsCsi.Bootstrap.Pool;

/// <summary>A device in the pool's config that is not ONLINE, with what zpool said about it ("was /dev/sdd").</summary>
public sealed record PoolDeviceProblem(string Name, string State, string Note);

/// <summary>
/// <c>zpool status POOL</c>, read loosely: the "key: value" header (state, status, action, and
/// "scan:" on OpenZFS or "scrub:" on zfs-fuse) and the devices that are not ONLINE. Unknown lines
/// are ignored, so new fields in either implementation do not break it.
/// </summary>
public sealed record PoolStatus(
    string State,
    string? Status,
    string? Action,
    string? Scan,
    string? Errors,
    IReadOnlyList<PoolDeviceProblem> Problems
)
{
    private static readonly HashSet<string> DeviceStates =
    [
        "ONLINE",
        "DEGRADED",
        "FAULTED",
        "OFFLINE",
        "UNAVAIL",
        "REMOVED",
        "AVAIL",
        "INUSE",
    ];

    public static PoolStatus Parse(string output)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<PoolDeviceProblem>();
        string? key = null;
        var inConfig = false;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd();
            var trimmed = line.Trim();
            var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
            var isHeader =
                !line.StartsWith('\t')
                && !line.StartsWith("  \t", StringComparison.Ordinal)
                && colon > 0
                && trimmed[..colon].All(c => char.IsAsciiLetterLower(c) || c == ' ')
                && !inConfig;
            if (isHeader || trimmed.StartsWith("errors:", StringComparison.Ordinal))
            {
                key = trimmed[..colon].Trim();
                fields[key] = trimmed[(colon + 1)..].Trim();
                inConfig = key == "config";
                continue;
            }
            if (inConfig)
            {
                var cols = trimmed.Split((char[])[' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length >= 2 && cols[0] != "NAME" && DeviceStates.Contains(cols[1]) && cols[1] != "ONLINE")
                {
                    var rest = cols.Length > 2 ? cols[2] : "";
                    // After the READ WRITE CKSUM counters comes zpool's note, e.g. "was /var/tmp/d2" or "cannot open".
                    var note = string.Join(
                        ' ',
                        rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                            .SkipWhile(t => t.All(char.IsAsciiDigit) || t == "-")
                    );
                    problems.Add(new PoolDeviceProblem(cols[0], cols[1], note));
                }
            }
            else if (key is not null && trimmed.Length > 0)
            {
                // A wrapped continuation of "status:" or "action:".
                fields[key] = $"{fields[key]} {trimmed}";
            }
        }
        return new PoolStatus(
            fields.GetValueOrDefault("state", "UNKNOWN"),
            fields.GetValueOrDefault("status"),
            fields.GetValueOrDefault("action"),
            fields.GetValueOrDefault("scan") ?? fields.GetValueOrDefault("scrub"),
            fields.GetValueOrDefault("errors"),
            problems
        );
    }

    /// <summary>The vdevs (leaves, not the pool or mirror lines) that need attention, as "disk2 UNAVAIL (was /x/disk2)".</summary>
    public string DescribeProblems(string pool) =>
        string.Join(
            ", ",
            Problems
                .Where(p =>
                    p.Name != pool
                    && !p.Name.StartsWith("mirror", StringComparison.Ordinal)
                    && !p.Name.StartsWith("raidz", StringComparison.Ordinal)
                )
                .Select(p => p.Note.Length > 0 ? $"{p.Name} {p.State} ({p.Note})" : $"{p.Name} {p.State}")
        );
}
