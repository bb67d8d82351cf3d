using System.Text;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// What a request could have changed, seen from outside the driver: every dataset and snapshot
/// under the suite's parent on the storage host (name, quota, zfs-csi state), and every mount and
/// directory under the node plugin's kubelet directory (not descending into a mount). A request
/// the plugin refuses for a missing or malformed field must leave both as they were. Left out:
/// what the controller's background sweep owns and may change at any moment after an earlier
/// test's delete (the snapshot names' claims, and kept volumes with their snapshots): no request
/// touches those either.
/// </summary>
public static class Footprint
{
    public static async Task<string> OfAsync(ConformanceFixture fx)
    {
        var text = new StringBuilder();
        var rows = (
            await StorageHost.Current.CheckAsync(
                "zfs",
                "get",
                "-H",
                "-r",
                "-p",
                "-o",
                "name,property,value",
                "refquota,zfs-csi:state",
                fx.Pool.Parent
            )
        )
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .ToList();
        var kept = rows.Where(r => r.Length == 3 && r[1] == "zfs-csi:state" && r[2] == "deleted")
            .Select(r => r[0])
            .ToHashSet(StringComparer.Ordinal);
        var claims = fx.Pool.Parent + "/SnapshotNames"; // the claims, and where an earlier release kept them
        foreach (var row in rows)
        {
            var name = row[0];
            var dataset = name.Split('@')[0];
            if (
                dataset == claims
                || dataset.StartsWith(claims + "/", StringComparison.Ordinal)
                || kept.Contains(dataset)
            )
            {
                continue;
            }
            text.AppendJoin('\t', row).Append('\n');
        }
        if (fx.NodePlugin is { } node)
        {
            var mounts = NodePlugin.MountsUnder(node.KubeletDirectory).ToList();
            text.AppendJoin('\n', mounts.Select(m => "mount " + m)).Append('\n');
            text.AppendJoin(
                '\n',
                Entries(node.KubeletDirectory, mounts.ToHashSet(StringComparer.Ordinal))
                    .Order(StringComparer.Ordinal)
                    .Select(e => "entry " + e)
            );
        }
        return text.ToString();
    }

    private static IEnumerable<string> Entries(string dir, IReadOnlySet<string> mounts)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
        {
            yield return entry;
            if (
                !mounts.Contains(entry)
                && Directory.Exists(entry)
                && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint)
            )
            {
                foreach (var below in Entries(entry, mounts))
                {
                    yield return below;
                }
            }
        }
    }
}
