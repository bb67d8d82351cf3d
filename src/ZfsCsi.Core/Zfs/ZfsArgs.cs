namespace ZfsCsi.Core.Zfs;

/// <summary>
/// Pure builders of zfs argv lists. Only flags that OpenZFS 2.x and zfs-fuse 0.7 both accept
/// (docs/zfs.md, "CLI differences"): -H -p on get (no -t), one property per set (several only
/// where the zfs in use was seen to take them: <see cref="SetMany"/>),
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

    /// <summary>
    /// Several properties in one <c>zfs set</c>: OpenZFS takes them all (and checks every value before it
    /// sets any); zfs-fuse takes one pair and reads the rest as dataset names ("cannot open 'b=2':
    /// invalid dataset name"), having set the first (<see cref="ZfsClient.SetManyAsync"/> falls back).
    /// </summary>
    public static string[] SetMany(DatasetName dataset, IEnumerable<KeyValuePair<string, string>> properties) =>
        ["set", .. properties.Select(p => $"{p.Key}={p.Value}"), dataset.Value];

    public static string[] Unmount(DatasetName dataset) => ["unmount", dataset.Value];

    /// <summary>
    /// <c>zfs --version</c>: the userland release ("zfs-X.Y.Z" first, read by ZfsVersion.ParseUserland).
    /// Never the <c>version</c> subcommand: OpenZFS answers -V/--version before libzfs_init()
    /// (cmd/zfs/zfs_main.c main()), which without the module fails or loads it. For zfs, not zpool.
    /// </summary>
    public static string[] Version() => ["--version"];

    /// <summary><c>zpool list</c> of every imported pool's name and health (for zpool, not zfs).</summary>
    public static string[] PoolHealth() => ["list", "-H", "-o", "name,health"];

    /// <summary>
    /// <c>zpool list</c> of every imported pool's name and fragmentation (percent, "-" when the pool
    /// cannot tell). OpenZFS only: zfs-fuse's zpool has no fragmentation property and fails, which
    /// the metrics take as "not reported". For zpool, not zfs.
    /// </summary>
    public static string[] PoolFragmentation() => ["list", "-H", "-o", "name,fragmentation"];

    /// <summary>
    /// <c>zpool import</c> of <paramref name="pool"/> from the given device directories (none: zpool's
    /// default search), never forced (no -f: a pool another host may still use is the operator's
    /// decision). Without <paramref name="mount"/> it mounts nothing (-N): OpenZFS only, zfs-fuse's
    /// import has no -N. For zpool, not zfs.
    /// </summary>
    public static string[] PoolImport(DatasetName pool, IEnumerable<string> searchDirectories, bool mount)
    {
        RequirePool(pool);
        List<string> argv = ["import"];
        if (!mount)
        {
            argv.Add("-N");
        }
        foreach (var dir in searchDirectories)
        {
            // A path that does not start with '/' could be read as an option (and OpenZFS refuses relative ones).
            if (!dir.StartsWith('/'))
            {
                throw new ArgumentException(
                    $"'{dir}': a search directory must be an absolute path",
                    nameof(searchDirectories)
                );
            }
            argv.AddRange(["-d", dir]);
        }
        argv.Add(pool.Value);
        return [.. argv];
    }

    /// <summary><c>zpool status</c> of one pool, read loosely by the bootstrap (zfs-fuse prints "scrub:", OpenZFS "scan:"). For zpool, not zfs.</summary>
    public static string[] PoolStatus(DatasetName pool)
    {
        RequirePool(pool);
        return ["status", pool.Value];
    }

    /// <summary>
    /// <c>zpool get</c> of one feature flag's state (<c>disabled</c>, <c>enabled</c>, <c>active</c>;
    /// zpool-features(7)). zfs-fuse's pools (version 23) have no feature flags and its zpool get
    /// takes no -H ("bad property list: invalid property '-H'", exit 2; docs/zfs.md, "Encryption"),
    /// which <see cref="ZfsClient.PoolFeatureAsync"/> reads as "not supported".
    /// For zpool, not zfs.
    /// </summary>
    public static string[] PoolFeature(DatasetName pool, string feature)
    {
        RequirePool(pool);
        return ["get", "-H", "-o", "value", $"feature@{feature}", pool.Value];
    }

    /// <summary>
    /// Every filesystem of <paramref name="pool"/> with what the bootstrap needs to unlock and mount
    /// the encrypted ones: tab-separated name, keylocation, keystatus, encryptionroot, mountpoint,
    /// canmount, mounted (<see cref="ZfsParser.ParseKeyRows"/>). OpenZFS only (zfs-fuse has no
    /// encryption properties): run only where key files exist.
    /// </summary>
    public static string[] ListKeys(DatasetName pool)
    {
        RequirePool(pool);
        return
        [
            "list",
            "-H",
            "-o",
            "name,keylocation,keystatus,encryptionroot,mountpoint,canmount,mounted",
            "-r",
            "-t",
            "filesystem",
            pool.Value,
        ];
    }

    /// <summary>
    /// <c>zfs load-key</c> of one encryption root, from its own keylocation (zfs-load-key(8)): the
    /// key is read by zfs from the file the property names, never given on the command line.
    /// Takes a name as zfs listed it (any dataset of the pool), as <see cref="MountListed"/> does.
    /// </summary>
    public static string[] LoadKey(string dataset) =>
        dataset.Length == 0 || dataset.StartsWith('-')
            ? throw new ArgumentException($"not a dataset name: '{dataset}'", nameof(dataset))
            : ["load-key", dataset];

    /// <summary>
    /// Every filesystem from <paramref name="root"/> down with where it mounts and whether it is: tab-separated
    /// name, mountpoint, canmount, mounted. <c>zfs list</c> without -p, which zfs-fuse's list does not have.
    /// </summary>
    public static string[] ListMounts(DatasetName root) =>
        ["list", "-H", "-o", "name,mountpoint,canmount,mounted", "-r", "-t", "filesystem", root.Value];

    /// <summary>
    /// Mounts a dataset by the name zfs itself listed (<see cref="ListMounts"/>): any dataset of a pool, so
    /// also names <see cref="DatasetName"/> does not make (a space is a valid ZFS name character).
    /// </summary>
    public static string[] MountListed(string dataset)
    {
        // zfs refuses to make a name starting with '-', so one here is not a name zfs listed.
        if (dataset.Length == 0 || dataset[0] == '-')
        {
            throw new ArgumentException($"'{dataset}' is not a dataset name zfs lists", nameof(dataset));
        }
        return ["mount", dataset];
    }

    public static string[] Mount(DatasetName dataset) => ["mount", dataset.Value];

    /// <summary>A dataset to a new name under the same parent; its snapshots go with it and its clones follow (origin is by reference).</summary>
    public static string[] Rename(DatasetName from, DatasetName to) => ["rename", from.Value, to.Value];

    /// <summary>
    /// The properties of <paramref name="dataset"/> and every descendant, snapshots included (zfs-fuse's
    /// get has no -t; callers tell snapshots by the '@' in the name): one process for a whole listing.
    /// </summary>
    public static string[] GetRecursive(IEnumerable<string> properties, DatasetName dataset) =>
        ["get", "-r", "-H", "-p", "-o", Columns, string.Join(',', properties), dataset.Value];

    /// <summary>
    /// As <see cref="GetRecursive"/>, down to <paramref name="depth"/> levels below
    /// <paramref name="dataset"/> (a snapshot is one level below its dataset). zfs does not visit
    /// what lies deeper, snapshots included, so the cost is what is listed, not what is below.
    /// </summary>
    public static string[] GetToDepth(IEnumerable<string> properties, DatasetName dataset, int depth) =>
        depth < 1
            ? throw new ArgumentOutOfRangeException(nameof(depth), depth, "a depth of at least 1")
            :
            [
                "get",
                "-r",
                "-d",
                depth.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-H",
                "-p",
                "-o",
                Columns,
                string.Join(',', properties),
                dataset.Value,
            ];

    /// <summary>Properties of named objects, datasets or snapshots, in one process.</summary>
    public static string[] GetNamed(IEnumerable<string> properties, IEnumerable<string> names) =>
        ["get", "-H", "-p", "-o", Columns, string.Join(',', properties), .. names];

    /// <summary>One snapshot with its properties set by the same command (no moment without its markers).</summary>
    public static string[] Snapshot(SnapshotName snapshot, IEnumerable<KeyValuePair<string, string>> properties) =>
        ["snapshot", .. Options(properties), snapshot.Value];

    /// <summary>Several snapshots at one instant in one transaction: OpenZFS only (zfs-fuse says "too many arguments").</summary>
    public static string[] SnapshotMany(
        IEnumerable<SnapshotName> snapshots,
        IEnumerable<KeyValuePair<string, string>> properties
    ) => ["snapshot", .. Options(properties), .. snapshots.Select(s => s.Value)];

    /// <summary><c>dataset@leaf</c> and the same leaf on every descendant, atomically (both implementations).</summary>
    public static string[] SnapshotRecursive(
        SnapshotName snapshot,
        IEnumerable<KeyValuePair<string, string>> properties
    ) => ["snapshot", "-r", .. Options(properties), snapshot.Value];

    /// <summary>A clone with every property applied by the clone itself, like <see cref="Create"/>.</summary>
    public static string[] Clone(
        SnapshotName origin,
        DatasetName target,
        IEnumerable<KeyValuePair<string, string>> properties
    ) => ["clone", .. Options(properties), origin.Value, target.Value];

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

    private static void RequirePool(DatasetName pool)
    {
        if (pool.Parent is not null)
        {
            throw new ArgumentException($"'{pool}' is a dataset, not a pool name", nameof(pool));
        }
    }

    private static IEnumerable<string> Options(IEnumerable<KeyValuePair<string, string>> properties) =>
        properties.SelectMany(p => new[] { "-o", $"{p.Key}={p.Value}" });
}
