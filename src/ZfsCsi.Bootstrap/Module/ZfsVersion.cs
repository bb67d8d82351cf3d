using System.Text.RegularExpressions;

namespace ZfsCsi.Bootstrap.Module;

/// <summary>
/// Pure parsing and comparison of ZFS versions as the tools print them: <c>zfs version</c>
/// (OpenZFS 2.x: "zfs-2.2.2-1" then "zfs-kmod-2.2.2-1"), <c>modinfo -F version zfs</c> ("2.2.2-1")
/// and /sys/module/zfs/version ("2.2.2-1").
/// </summary>
public static partial class ZfsVersion
{
    /// <summary>The userland version from <c>zfs version</c> output, without the "zfs-" prefix; null when absent.</summary>
    public static string? ParseUserland(string zfsVersionOutput) =>
        zfsVersionOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("zfs-", StringComparison.Ordinal) && !l.StartsWith("zfs-kmod-", StringComparison.Ordinal))
            .Select(l => l["zfs-".Length..])
            .FirstOrDefault(v => v.Length > 0);

    /// <summary>
    /// Whether a module and the userland are the same release. Only the upstream version counts
    /// (2.2.2 in "2.2.2-0ubuntu9~22.04"): packagers suffix userland and module differently, while
    /// a different upstream version is the mismatch that hangs and loses data.
    /// </summary>
    public static bool SameRelease(string a, string b)
    {
        var (ua, ub) = (Upstream(a), Upstream(b));
        return ua is not null && ub is not null ? ua == ub : string.Equals(a.Trim(), b.Trim(), StringComparison.Ordinal);
    }

    /// <summary>"2.2.2" from "zfs-2.2.2-1", "2.2.2-0ubuntu9", "v2.2.2"; null when there is no dotted number.</summary>
    public static string? Upstream(string version)
    {
        var m = UpstreamPattern().Match(version);
        return m.Success ? m.Value : null;
    }

    [GeneratedRegex(@"\d+(\.\d+)+")]
    private static partial Regex UpstreamPattern();
}
