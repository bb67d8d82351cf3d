namespace ZfsCsi.Core.Zfs;

/// <summary>
/// Pure builders of zfs argv lists. Only flags that OpenZFS 2.x and zfs-fuse 0.7 both accept
/// (shared/notes/zfs.md, "CLI differences"): -H -p on get (no -t), one property per set,
/// plain destroy flags. Dataset names are validated types, so none starts with '-'.
/// </summary>
public static class ZfsArgs
{
    /// <summary>Columns every get asks for, in the order <see cref="ZfsParser"/> reads them.</summary>
    private const string Columns = "name,property,value,source";

    public static string[] Get(IEnumerable<string> properties, IEnumerable<DatasetName> datasets) =>
        ["get", "-H", "-p", "-o", Columns, string.Join(',', properties), .. datasets.Select(d => d.Value)];

    /// <summary>The properties of <paramref name="parent"/> and its direct children (and their snapshots on OpenZFS): one process for a whole listing.</summary>
    public static string[] GetChildren(IEnumerable<string> properties, DatasetName parent) =>
        ["get", "-H", "-p", "-d", "1", "-o", Columns, string.Join(',', properties), parent.Value];

    /// <summary>Create with every property in the same command, so the dataset never exists without its markers and quota.</summary>
    public static string[] Create(DatasetName dataset, IEnumerable<KeyValuePair<string, string>> properties) =>
        ["create", .. properties.SelectMany(p => new[] { "-o", $"{p.Key}={p.Value}" }), dataset.Value];

    /// <summary>Create a dataset and any missing ancestors (used only for the parent dataset at start-up).</summary>
    public static string[] CreateWithParents(DatasetName dataset) => ["create", "-p", dataset.Value];

    public static string[] Set(DatasetName dataset, string property, string value) =>
        ["set", $"{property}={value}", dataset.Value];

    public static string[] Unmount(DatasetName dataset) => ["unmount", dataset.Value];

    public static string[] Mount(DatasetName dataset) => ["mount", dataset.Value];

    public static string[] Destroy(DatasetName dataset) => ["destroy", dataset.Value];
}
