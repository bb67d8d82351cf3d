namespace ZfsCsi.Core.Zfs;

/// <summary>Pure parsers of zfs/zpool script-mode (-H, tab-separated) output.</summary>
public static class ZfsParser
{
    /// <summary>
    /// Reads <c>zfs get -H -p -o name,property,value,source</c>. Values may contain spaces but never
    /// tabs (the driver hex-encodes outside text), so a line splits into exactly four fields.
    /// </summary>
    public static IReadOnlyList<ZfsProperty> ParseGet(string output)
    {
        var rows = new List<ZfsProperty>();
        foreach (var line in output.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }
            var fields = line.Split('\t');
            if (fields.Length != 4)
            {
                throw new FormatException($"unexpected line in zfs get output (want 4 tab-separated fields): '{line}'");
            }
            rows.Add(new ZfsProperty(fields[0], fields[1], fields[2], fields[3]));
        }
        return rows;
    }

    /// <summary>
    /// Groups rows by dataset, keeping the order in which datasets first appear. A dataset named
    /// twice in one command (a pool-root parent is also the pool) prints its rows twice: the first counts.
    /// </summary>
    public static IReadOnlyList<DatasetProperties> GroupByDataset(IEnumerable<ZfsProperty> rows) =>
        rows.GroupBy(r => r.Dataset, StringComparer.Ordinal)
            .Select(g => new DatasetProperties(
                g.Key,
                g.DistinctBy(r => r.Name, StringComparer.Ordinal).ToDictionary(r => r.Name, StringComparer.Ordinal)
            ))
            .ToList();

    /// <summary>
    /// The names a <c>zfs get</c> of named objects reported missing, when that is all its stderr says
    /// (one "cannot open '&lt;name&gt;': dataset does not exist" line per missing name, the same text on
    /// OpenZFS 2.x and zfs-fuse 0.7; tests/…/ZfsCommands). Null when stderr says anything else: then
    /// the failure is not just absence and the caller must not read the output as complete.
    /// </summary>
    public static IReadOnlySet<string>? ParseMissingNames(string stderr)
    {
        const string Open = "cannot open '";
        const string Missing = "': dataset does not exist";
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in stderr.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }
            if (
                !line.StartsWith(Open, StringComparison.Ordinal)
                || !line.EndsWith(Missing, StringComparison.Ordinal)
                || line.Length <= Open.Length + Missing.Length
            )
            {
                return null;
            }
            names.Add(line[Open.Length..^Missing.Length]);
        }
        return names.Count > 0 ? names : null;
    }

    /// <summary>A byte count as printed by -p, or null for "-", "none" and the empty string.</summary>
    public static long? ParseBytes(string value) =>
        value is "-" or "none" or "" ? null
        : long.TryParse(
            value,
            System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture,
            out var n
        )
            ? n
        : throw new FormatException($"'{value}' is not a byte count");

    /// <summary>Reads <c>zpool list -H -o name,fragmentation</c>: "12%" is 0.12, "-" (not known) is null.</summary>
    public static IReadOnlyDictionary<string, double?> ParsePoolFragmentation(string output) =>
        output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.TrimEnd('\r').Split('\t'))
            .Where(f => f.Length >= 2)
            .ToDictionary(
                f => f[0],
                f =>
                    f[1].EndsWith('%')
                    && int.TryParse(
                        f[1][..^1],
                        System.Globalization.NumberStyles.None,
                        System.Globalization.CultureInfo.InvariantCulture,
                        out var percent
                    )
                        ? percent / 100.0
                        : (double?)null,
                StringComparer.Ordinal
            );

    /// <summary>
    /// Reads a <c>zfs get -p compressratio</c> value: OpenZFS prints "1.50", zfs-fuse "1.50x"
    /// (-p does not drop the suffix there); null when it is neither.
    /// </summary>
    public static double? ParseRatio(string value) =>
        double.TryParse(
            value.TrimEnd('x'),
            System.Globalization.NumberStyles.AllowDecimalPoint,
            System.Globalization.CultureInfo.InvariantCulture,
            out var ratio
        )
            ? ratio
            : null;

    /// <summary>Reads <c>zpool get -H -o value feature@X</c>: the state's one word (disabled, enabled, active), or null for anything else.</summary>
    public static string? ParseFeatureState(string output) =>
        output.Trim() is var state && state is "disabled" or "enabled" or "active" ? state : null;

    /// <summary>Reads <see cref="ZfsArgs.ListKeys"/>; lines of another shape are skipped.</summary>
    public static IReadOnlyList<KeyRow> ParseKeyRows(string output) =>
        [
            .. output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.TrimEnd('\r').Split('\t'))
                .Where(c => c.Length == 7)
                .Select(c => new KeyRow(c[0], c[1], c[2], c[3], c[4], c[5] == "on", c[6] == "yes")),
        ];

    /// <summary>Reads <c>zpool list -H -o name,health</c>.</summary>
    public static IReadOnlyDictionary<string, string> ParsePoolHealth(string output) =>
        output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .Where(f => f.Length >= 2)
            .ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
}

/// <summary>
/// One filesystem as <see cref="ZfsArgs.ListKeys"/> lists it. <see cref="KeyStatus"/> is
/// <c>available</c>, <c>unavailable</c> or <c>-</c> (not encrypted); <see cref="EncryptionRoot"/> is
/// <c>-</c> for a plain dataset; a clone of an encrypted volume names its origin's root.
/// </summary>
public sealed record KeyRow(
    string Name,
    string KeyLocation,
    string KeyStatus,
    string EncryptionRoot,
    string Mountpoint,
    bool CanMount,
    bool Mounted
)
{
    public bool IsEncryptionRoot => EncryptionRoot == Name;
    public bool KeyUnavailable => KeyStatus == "unavailable";
}
