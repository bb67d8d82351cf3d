using System.Text;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// What a request could have changed, seen from outside the driver: every dataset and snapshot
/// under the suite's parent on the storage host (name, quota, zfs-csi state), and every mount and
/// directory under the node plugin's kubelet directory (not descending into a mount). A request
/// the plugin refuses for a missing or malformed field must leave both as they were.
/// </summary>
public static class Footprint
{
    public static async Task<string> OfAsync(ConformanceFixture fx)
    {
        var text = new StringBuilder();
        text.Append(await StorageHost.Current.CheckAsync("zfs", "get", "-H", "-r", "-p", "-o", "name,property,value", "refquota,zfs-csi:state", fx.Pool.Parent));
        if (fx.NodePlugin is { } node)
        {
            var mounts = NodePlugin.MountsUnder(node.KubeletDirectory).ToList();
            text.AppendJoin('\n', mounts.Select(m => "mount " + m)).Append('\n');
            text.AppendJoin('\n', Entries(node.KubeletDirectory, mounts.ToHashSet(StringComparer.Ordinal)).Order(StringComparer.Ordinal).Select(e => "entry " + e));
        }
        return text.ToString();
    }

    private static IEnumerable<string> Entries(string dir, IReadOnlySet<string> mounts)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
        {
            yield return entry;
            if (!mounts.Contains(entry) && Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint))
            {
                foreach (var below in Entries(entry, mounts))
                {
                    yield return below;
                }
            }
        }
    }
}
