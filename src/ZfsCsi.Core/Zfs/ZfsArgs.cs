namespace ZfsCsi.Core.Zfs;

/// <summary>
/// Pure builders of zfs argv lists. Only flags that OpenZFS 2.x and zfs-fuse 0.7 both accept
/// (docs/zfs.md, "CLI differences"): -H -p on get (no -t), one property per set,
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

    /// <summary><c>zpool list</c> of every imported pool's name and health (for zpool, not zfs).</summary>
    public static string[] PoolHealth() => ["list", "-H", "-o", "name,health"];

    public static string[] Mount(DatasetName dataset) => ["mount", dataset.Value];

    /// <summary>A dataset to a new name under the same parent; its snapshots go with it and its clones follow (origin is by reference).</summary>
    public static string[] Rename(DatasetName from, DatasetName to) => ["rename", from.Value, to.Value];


    /// <summary>
    /// The properties of <paramref name="dataset"/> and every descendant, snapshots included (zfs-fuse's
    /// get has no -t; callers tell snapshots by the '@' in the name): one process for a whole listing.
    /// </summary>
    public static string[] GetRecursive(IEnumerable<string> properties, DatasetName dataset) =>
        ["get", "-r", "-H", "-p", "-o", Columns, string.Join(',', properties), dataset.Value];

    /// <summary>Properties of named objects, datasets or snapshots, in one process.</summary>
    public static string[] GetNamed(IEnumerable<string> properties, IEnumerable<string> names) =>
        ["get", "-H", "-p", "-o", Columns, string.Join(',', properties), .. names];

    /// <summary>One snapshot with its properties set by the same command (no moment without its markers).</summary>
    public static string[] Snapshot(SnapshotName snapshot, IEnumerable<KeyValuePair<string, string>> properties) =>
        ["snapshot", .. Options(properties), snapshot.Value];

    /// <summary>Several snapshots at one instant in one transaction: OpenZFS only (zfs-fuse says "too many arguments").</summary>
    public static string[] SnapshotMany(IEnumerable<SnapshotName> snapshots, IEnumerable<KeyValuePair<string, string>> properties) =>
        ["snapshot", .. Options(properties), .. snapshots.Select(s => s.Value)];

    /// <summary><c>dataset@leaf</c> and the same leaf on every descendant, atomically (both implementations).</summary>
    public static string[] SnapshotRecursive(SnapshotName snapshot, IEnumerable<KeyValuePair<string, string>> properties) =>
        ["snapshot", "-r", .. Options(properties), snapshot.Value];

    /// <summary>A clone with every property applied by the clone itself, like <see cref="Create"/>.</summary>
    public static string[] Clone(SnapshotName origin, DatasetName target, IEnumerable<KeyValuePair<string, string>> properties) =>
        ["clone", .. Options(properties), origin.Value, target.Value];

    /// <summary>Deferred destroy: at once when nothing depends on the snapshot, else when its last clone goes.</summary>
    public static string[] DestroySnapshotDeferred(SnapshotName snapshot) => ["destroy", "-d", snapshot.Value];

    /// <summary>A dataset with its snapshots; refused (nothing destroyed) while a snapshot has clones.</summary>
    public static string[] DestroyRecursive(DatasetName dataset) => ["destroy", "-r", dataset.Value];

    /// <summary>The snapshot of this leaf on a dataset and on every descendant.</summary>
    public static string[] DestroySnapshotRecursive(SnapshotName snapshot) => ["destroy", "-r", snapshot.Value];

    /// <summary>Back to the most recent snapshot (no -r: zfs refuses, destroying nothing, when it is not the latest).</summary>
    public static string[] Rollback(SnapshotName snapshot) => ["rollback", snapshot.Value];

    public static string[] RenameSnapshot(SnapshotName from, SnapshotName to) => ["rename", from.Value, to.Value];

    /// <summary>Sets a (user) property on a snapshot; snapshots take no native properties that matter here.</summary>
    public static string[] Set(SnapshotName snapshot, string property, string value) =>
        ["set", $"{property}={value}", snapshot.Value];

    private static IEnumerable<string> Options(IEnumerable<KeyValuePair<string, string>> properties) =>
        properties.SelectMany(p => new[] { "-o", $"{p.Key}={p.Value}" });
}
