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
            .Select(g => new DatasetProperties(g.Key, g.DistinctBy(r => r.Name, StringComparer.Ordinal).ToDictionary(r => r.Name, StringComparer.Ordinal)))
            .ToList();

    /// <summary>A byte count as printed by -p, or null for "-", "none" and the empty string.</summary>
    public static long? ParseBytes(string value) =>
        value is "-" or "none" or "" ? null
        : long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
        : throw new FormatException($"'{value}' is not a byte count");

    /// <summary>Reads <c>zpool list -H -o name,fragmentation</c>: "12%" is 0.12, "-" (not known) is null.</summary>
    public static IReadOnlyDictionary<string, double?> ParsePoolFragmentation(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.TrimEnd('\r').Split('\t'))
            .Where(f => f.Length >= 2)
            .ToDictionary(f => f[0], f => f[1].EndsWith('%')
                && int.TryParse(f[1][..^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var percent)
                ? percent / 100.0 : (double?)null, StringComparer.Ordinal);

    /// <summary>
    /// Reads a <c>zfs get -p compressratio</c> value: OpenZFS prints "1.50", zfs-fuse "1.50x"
    /// (-p does not drop the suffix there); null when it is neither.
    /// </summary>
    public static double? ParseRatio(string value) =>
        double.TryParse(value.TrimEnd('x'), System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var ratio)
            ? ratio : null;

    /// <summary>Reads <c>zpool list -H -o name,health</c>.</summary>
    public static IReadOnlyDictionary<string, string> ParsePoolHealth(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .Where(f => f.Length >= 2)
            .ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
}
