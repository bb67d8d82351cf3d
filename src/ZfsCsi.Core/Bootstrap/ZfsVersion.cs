using System.Text.RegularExpressions;

namespace ZfsCsi.Core.Bootstrap;

/// <summary>
/// Pure parsing and comparison of ZFS versions as the tools print them: <c>zfs --version</c>
/// (OpenZFS 2.x: "zfs-2.2.2-1" then "zfs-kmod-2.2.2-1"), <c>modinfo -F version zfs</c> ("2.2.2-1"),
/// /sys/module/zfs/version ("2.2.2-1") and a source tree's META file ("Version: 2.0.1").
/// </summary>
public static partial class ZfsVersion
{
    /// <summary>
    /// The userland version from <c>zfs --version</c> output, without the "zfs-" prefix; null when
    /// absent. Reads the "zfs-" line whatever else the output holds: without the module, OpenZFS
    /// prints it and then fails on the kmod line (cmd/zfs/zfs_main.c main(): -V/--version runs
    /// zfs_do_version() before libzfs_init(); lib/libzfs zfs_version_print()).
    /// </summary>
    public static string? ParseUserland(string zfsVersionOutput) =>
        Lines(zfsVersionOutput)
            .Where(l =>
                l.StartsWith("zfs-", StringComparison.Ordinal) && !l.StartsWith("zfs-kmod-", StringComparison.Ordinal)
            )
            .Select(l => l["zfs-".Length..])
            .FirstOrDefault(v => v.Length > 0 && Upstream(v) is not null);

    /// <summary>
    /// "2.0.1-1" from an OpenZFS source tree's META file ("Version:  2.0.1", "Release:  1"): the
    /// release that tree builds, module and tools alike. Null when there is no Version line.
    /// </summary>
    public static string? ParseMeta(string meta)
    {
        string? version = null,
            release = null;
        foreach (var line in Lines(meta))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }
            var (key, value) = (line[..colon].Trim(), line[(colon + 1)..].Trim());
            if (key == "Version")
            {
                version = value;
            }
            else if (key == "Release")
            {
                release = value;
            }
        }
        return string.IsNullOrEmpty(version) || Upstream(version) is null ? null
            : string.IsNullOrEmpty(release) ? version
            : $"{version}-{release}";
    }

    /// <summary>
    /// Whether a module and the userland are the same release. Only the upstream version counts
    /// (2.2.2 in "2.2.2-0ubuntu9~22.04"): packagers suffix userland and module differently, while
    /// a different upstream version is the mismatch that hangs and loses data.
    /// </summary>
    public static bool SameRelease(string a, string b)
    {
        var (ua, ub) = (Upstream(a), Upstream(b));
        return ua is not null && ub is not null
            ? ua == ub
            : string.Equals(a.Trim(), b.Trim(), StringComparison.Ordinal);
    }

    /// <summary>"2.2.2" from "zfs-2.2.2-1", "2.2.2-0ubuntu9", "v2.2.2"; null when there is no dotted number.</summary>
    public static string? Upstream(string version)
    {
        var m = UpstreamPattern().Match(version);
        return m.Success ? m.Value : null;
    }

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex(@"\d+(\.\d+)+")]
    private static partial Regex UpstreamPattern();
}
