using System.Reflection;
using ZfsCsi.Bootstrap.Pool;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.ZfsCommands;

/// <summary>
/// One case per argv builder of <see cref="ZfsArgs"/>: the argv the driver builds, run on the real
/// pool of the backend, and its effect read back with the driver's own builders and parser. Where
/// the two backends differ the case says so and checks each one's behaviour.
/// <see cref="ZfsCommandCoverageTests"/> fails when a builder has no case here.
/// </summary>
public static class ZfsArgvCases
{
    private static readonly KeyValuePair<string, string> Marker = new("org.zfs-csi:case", "yes");

    /// <summary>What names a builder: its method name, and its first parameter's type where the name is overloaded.</summary>
    public static string KeyOf(MethodInfo builder) =>
        typeof(ZfsArgs).GetMethods(BindingFlags.Public | BindingFlags.Static).Count(m => m.Name == builder.Name) > 1
            ? $"{builder.Name}({builder.GetParameters()[0].ParameterType.Name})"
            : builder.Name;

    /// <summary>Every public builder of <see cref="ZfsArgs"/>, by <see cref="KeyOf"/>.</summary>
    public static IReadOnlyList<string> Builders { get; } =
    [
        .. typeof(ZfsArgs)
            .GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(KeyOf)
            .Distinct()
            .Order(StringComparer.Ordinal),
    ];

    public static readonly IReadOnlyDictionary<string, Func<ScratchDatasets, Task>> Cases = new Dictionary<
        string,
        Func<ScratchDatasets, Task>
    >
    {
        ["CreateWithParents"] = async s =>
        {
            var leaf = DatasetName.Parse($"{s.NewName("parents").Value}/a/b");
            await s.CheckAsync("zfs", ZfsArgs.CreateWithParents(leaf));
            Assert.True(await s.ExistsAsync(leaf.Value));
            // Again: -p succeeds on an existing dataset (the driver's start-up runs it every time).
            await s.CheckAsync("zfs", ZfsArgs.CreateWithParents(leaf));
        },
        ["Create"] = async s =>
        {
            var d = s.NewName("create");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, [new("refquota", "64M"), Marker]));
            Assert.Equal("67108864", await s.PropertyAsync(d.Value, "refquota"));
            Assert.Equal("yes", await s.PropertyAsync(d.Value, Marker.Key));
        },
        ["Get"] = async s =>
        {
            var (a, b) = (s.NewName("get"), s.NewName("get"));
            await s.CheckAsync("zfs", ZfsArgs.Create(a, [new("refquota", "16M")]));
            await s.CheckAsync("zfs", ZfsArgs.Create(b, [new("refquota", "32M")]));
            var rows = ZfsParser.ParseGet(await s.CheckAsync("zfs", ZfsArgs.Get(["refquota", Marker.Key], [a, b])));
            var byDataset = ZfsParser.GroupByDataset(rows).ToDictionary(d => d.Name);
            Assert.Equal(
                16L << 20,
                ZfsParser.ParseBytes(rows.Single(r => r.Dataset == a.Value && r.Name == "refquota").Value)
            );
            Assert.Equal(
                32L << 20,
                ZfsParser.ParseBytes(rows.Single(r => r.Dataset == b.Value && r.Name == "refquota").Value)
            );
            Assert.Equal(2, byDataset.Count);
            // An unset user property: "-" with source "-" on both backends.
            Assert.Equal("-", rows.Single(r => r.Dataset == a.Value && r.Name == Marker.Key).Value);
        },
        ["GetChildren"] = async s =>
        {
            var parent = s.NewName("children");
            await s.CheckAsync("zfs", ZfsArgs.Create(parent, []));
            var (c1, c2) = (DatasetName.Parse($"{parent.Value}/c1"), DatasetName.Parse($"{parent.Value}/c2"));
            await s.CheckAsync("zfs", ZfsArgs.Create(c1, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(c2, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(DatasetName.Parse($"{c1.Value}/grandchild"), []));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(c1, "s"), []));
            var names = ZfsParser
                .ParseGet(await s.CheckAsync("zfs", ZfsArgs.GetChildren(["type"], parent)))
                .Select(r => r.Dataset)
                .ToHashSet();
            Assert.Contains(parent.Value, names);
            Assert.Contains(c1.Value, names);
            Assert.Contains(c2.Value, names);
            Assert.DoesNotContain($"{c1.Value}/grandchild", names);
            // -d 1 counts a snapshot as one level below its dataset: the children's snapshots are two down.
            Assert.DoesNotContain($"{c1.Value}@s", names);
        },
        ["GetRecursive"] = async s =>
        {
            var parent = s.NewName("recursive");
            var child = DatasetName.Parse($"{parent.Value}/c");
            await s.CheckAsync("zfs", ZfsArgs.Create(parent, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(child, []));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(child, "s"), []));
            var names = ZfsParser
                .ParseGet(await s.CheckAsync("zfs", ZfsArgs.GetRecursive(["type"], parent)))
                .Select(r => r.Dataset)
                .ToHashSet();
            Assert.Equal(new HashSet<string> { parent.Value, child.Value, $"{child.Value}@s" }, names);
        },
        ["GetToDepth"] = async s =>
        {
            var parent = s.NewName("depth");
            var child = DatasetName.Parse($"{parent.Value}/c");
            var grandchild = DatasetName.Parse($"{child.Value}/g");
            await s.CheckAsync("zfs", ZfsArgs.Create(parent, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(child, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(grandchild, []));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(child, "s"), []));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(grandchild, "s"), []));
            var names = ZfsParser
                .ParseGet(await s.CheckAsync("zfs", ZfsArgs.GetToDepth(["type"], parent, 2)))
                .Select(r => r.Dataset)
                .ToHashSet();
            // Two levels: the child's snapshot is listed, the grandchild's (three down) is not.
            Assert.Equal(
                new HashSet<string> { parent.Value, child.Value, $"{child.Value}@s", grandchild.Value },
                names
            );
        },
        ["GetNamed"] = async s =>
        {
            var d = s.NewName("named");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(d, "s"), []));
            var rows = ZfsParser.ParseGet(
                await s.CheckAsync("zfs", ZfsArgs.GetNamed(["type"], [d.Value, $"{d.Value}@s"]))
            );
            Assert.Equal("filesystem", rows.Single(r => r.Dataset == d.Value).Value);
            Assert.Equal("snapshot", rows.Single(r => r.Dataset == $"{d.Value}@s").Value);
            // Names of which some are missing (ZfsClient.GetExistingAsync, the driver's O(1) lookups):
            // exit 1, every existing one printed, each missing one named on stderr in the text the
            // parser reads, and nothing else there.
            string[] missing = [$"{d.Value}@gone", $"{d.Value}-gone"];
            var partial = await s.RunAsync(
                "zfs",
                ZfsArgs.GetNamed(["type"], [d.Value, missing[0], $"{d.Value}@s", missing[1]])
            );
            Assert.Equal(1, partial.ExitCode);
            Assert.Equal(new HashSet<string>(missing), ZfsParser.ParseMissingNames(partial.StandardError));
            Assert.Equal(
                new HashSet<string> { d.Value, $"{d.Value}@s" },
                ZfsParser.ParseGet(partial.StandardOutput).Select(r => r.Dataset).ToHashSet()
            );
        },
        ["Set(DatasetName)"] = async s =>
        {
            var d = s.NewName("set");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, [new("refquota", "64M")]));
            await s.CheckAsync("zfs", ZfsArgs.Set(d, "refquota", "96M"));
            Assert.Equal(
                (96L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
                await s.PropertyAsync(d.Value, "refquota")
            );
        },
        ["SetMany"] = async s =>
        {
            var d = s.NewName("setmany");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            var result = await s.RunAsync(
                "zfs",
                ZfsArgs.SetMany(d, [new("atime", "off"), new("compression", "gzip"), Marker])
            );
            if (s.Host is VmStorageHost)
            {
                // OpenZFS: every pair in one command.
                Assert.True(
                    result.Succeeded,
                    $"openzfs: zfs set atime=off compression=gzip …: {result.StandardError.Trim()}"
                );
                Assert.Equal("gzip", await s.PropertyAsync(d.Value, "compression"));
                Assert.Equal("yes", await s.PropertyAsync(d.Value, Marker.Key));
            }
            else
            {
                // zfs-fuse 0.7: one pair per set; the others are read as dataset names it cannot open, and the
                // first pair is set all the same (ZfsClient.SetManyAsync falls back to one set per property).
                Assert.Equal(1, result.ExitCode);
                Assert.Contains(
                    "cannot open 'compression=gzip': invalid dataset name",
                    result.StandardError,
                    StringComparison.Ordinal
                );
                Assert.Equal("off", await s.PropertyAsync(d.Value, "atime"));
                Assert.Equal("off", await s.PropertyAsync(d.Value, "compression"));
            }
        },
        ["Set(SnapshotName)"] = async s =>
        {
            var d = s.NewName("setsnap");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            var snap = SnapshotName.Of(d, "s");
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(snap, []));
            await s.CheckAsync("zfs", ZfsArgs.Set(snap, Marker.Key, "later"));
            Assert.Equal("later", await s.PropertyAsync(snap.Value, Marker.Key));
        },
        ["Unmount"] = async s =>
        {
            var d = s.NewName("unmount");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            Assert.Equal("yes", await s.PropertyAsync(d.Value, "mounted"));
            await s.CheckAsync("zfs", ZfsArgs.Unmount(d));
            Assert.Equal("no", await s.PropertyAsync(d.Value, "mounted"));
        },
        ["Mount"] = async s =>
        {
            var d = s.NewName("mount");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            await s.CheckAsync("zfs", ZfsArgs.Unmount(d));
            await s.CheckAsync("zfs", ZfsArgs.Mount(d));
            Assert.Equal("yes", await s.PropertyAsync(d.Value, "mounted"));
        },
        ["PoolHealth"] = async s =>
        {
            var health = ZfsParser.ParsePoolHealth(await s.CheckAsync("zpool", ZfsArgs.PoolHealth()));
            Assert.Equal("ONLINE", health[s.Pool]);
        },
        ["Version"] = async s =>
        {
            var result = await s.RunAsync("zfs", ZfsArgs.Version());
            var userland = ZfsCsi.Core.Bootstrap.ZfsVersion.ParseUserland(result.StandardOutput);
            if (s.Backend == "zfs-fuse")
            {
                // zfs-fuse's zfs has no --version: it answers with its usage and exit 2, so there is no release to compare.
                Assert.NotEqual(0, result.ExitCode);
                Assert.Null(userland);
                return;
            }
            // OpenZFS answers before libzfs_init(), with the module loaded or not: zfs-X.Y.Z first.
            Assert.True(result.ExitCode == 0, result.StandardError);
            Assert.Matches(@"^2\.\d+\.\d+", userland);
        },
        ["PoolFragmentation"] = async s =>
        {
            var result = await s.RunAsync("zpool", ZfsArgs.PoolFragmentation());
            if (s.Backend == "zfs-fuse")
            {
                // zfs-fuse's zpool (pool v23) has no fragmentation property: the metric is left out there.
                Assert.NotEqual(0, result.ExitCode);
                return;
            }
            Assert.True(result.ExitCode == 0, result.StandardError);
            var fragmentation = ZfsParser.ParsePoolFragmentation(result.StandardOutput);
            Assert.InRange(fragmentation[s.Pool]!.Value, 0, 1);
        },
        ["PoolImport"] = async s =>
        {
            await using var pool = new FilePool(s);
            await pool.CreateAsync(mounted: true);
            var child = pool.Pool.Child("child");
            await s.CheckAsync("zfs", ZfsArgs.Create(child, []));
            await pool.ExportAsync();

            // Mounting: found in the search directory (zpool's default search does not look there) and mounted.
            await s.CheckAsync("zpool", ZfsArgs.PoolImport(pool.Pool, [pool.Directory], mount: true));
            Assert.Equal("ONLINE", await PoolHealthAsync(s, pool.Name));
            Assert.Equal("yes", await s.PropertyAsync(child.Value, "mounted"));
            await pool.ExportAsync();

            var withoutMounting = await s.RunAsync(
                "zpool",
                ZfsArgs.PoolImport(pool.Pool, [pool.Directory], mount: false)
            );
            if (s.Host is VmStorageHost)
            {
                // OpenZFS: imported, nothing mounted (the bootstrap in a container leaves the mounts to the host).
                Assert.True(
                    withoutMounting.Succeeded,
                    $"openzfs: zpool import -N: {withoutMounting.StandardError.Trim()}"
                );
                Assert.Equal("ONLINE", await PoolHealthAsync(s, pool.Name));
                Assert.Equal("no", await s.PropertyAsync(pool.Name, "mounted"));
                Assert.Equal("no", await s.PropertyAsync(child.Value, "mounted"));
            }
            else
            {
                // zfs-fuse's import has no -N: a usage error that imports nothing (the bootstrap refuses
                // --import-mount none or DIR with --module none).
                Assert.Equal(2, withoutMounting.ExitCode);
                Assert.Contains("invalid option 'N'", withoutMounting.StandardError, StringComparison.Ordinal);
                Assert.Null(await PoolHealthAsync(s, pool.Name));
            }
        },
        ["PoolFeature"] = async s =>
        {
            var argv = ZfsArgs.PoolFeature(DatasetName.Parse(s.Pool), "encryption");
            var result = await s.RunAsync("zpool", argv);
            if (s.Host is VmStorageHost)
            {
                // OpenZFS 2.3: a new pool has every feature enabled; active once an encrypted dataset exists.
                Assert.True(result.Succeeded, result.StandardError);
                Assert.Contains(ZfsParser.ParseFeatureState(result.StandardOutput), new[] { "enabled", "active" });
            }
            else
            {
                // zfs-fuse: its zpool get has no -H and its pools no features; the driver reads this as "no encryption".
                Assert.Equal(2, result.ExitCode);
                Assert.Contains("invalid property '-H'", result.StandardError, StringComparison.Ordinal);
                Assert.IsType<ZfsInvalidArgumentException>(ZfsErrors.Classify(new CommandLine("zpool", argv), result));
            }
        },
        ["ListKeys"] = async s =>
        {
            var pool = DatasetName.Parse(s.Pool);
            if (s.Host is not VmStorageHost)
            {
                // zfs-fuse has no encryption properties; the bootstrap never runs this there (--module none).
                var refused = await s.RunAsync("zfs", ZfsArgs.ListKeys(pool));
                Assert.Equal(2, refused.ExitCode);
                Assert.Contains("invalid property 'keylocation'", refused.StandardError, StringComparison.Ordinal);
                return;
            }
            var (root, clone, key) = await LockedEncryptedWithCloneAsync(s, "keys");

            var rows = ZfsParser
                .ParseKeyRows(await s.CheckAsync("zfs", ZfsArgs.ListKeys(pool)))
                .ToDictionary(r => r.Name);

            Assert.Equal($"file://{key}", rows[root.Value].KeyLocation);
            Assert.True(
                rows[root.Value].IsEncryptionRoot && rows[root.Value].KeyUnavailable && !rows[root.Value].Mounted
            );
            // A clone is in its origin's encryption root, locked with it.
            Assert.Equal(root.Value, rows[clone.Value].EncryptionRoot);
            Assert.True(rows[clone.Value].KeyUnavailable && rows[clone.Value].CanMount);
            Assert.Equal("-", rows[pool.Value].EncryptionRoot);
            await s.CheckAsync("zfs", ZfsArgs.LoadKey(root.Value));
        },
        ["LoadKey"] = async s =>
        {
            if (s.Host is not VmStorageHost)
            {
                var unknown = await s.RunAsync("zfs", ZfsArgs.LoadKey(s.NewName("loadkey").Value));
                Assert.Equal(2, unknown.ExitCode);
                Assert.Contains("unrecognized command 'load-key'", unknown.StandardError, StringComparison.Ordinal);
                return;
            }
            var (root, clone, key) = await LockedEncryptedWithCloneAsync(s, "loadkey");
            var good = await s.ShellAsync("cat \"$1\"", key);

            // Another key in the file: zfs's words, which the bootstrap quotes in its not-ready reason.
            await s.ShellAsync("printf 'not the right key' > \"$1\"", key);
            var wrong = await s.RunAsync("zfs", ZfsArgs.LoadKey(root.Value));
            Assert.NotEqual(0, wrong.ExitCode);
            Assert.Contains("Incorrect key provided", wrong.StandardError, StringComparison.Ordinal);

            await s.ShellAsync("printf '%s' \"$2\" > \"$1\"", key, good);
            await s.CheckAsync("zfs", ZfsArgs.LoadKey(root.Value));
            Assert.Equal("available", await s.PropertyAsync(clone.Value, "keystatus"));
            await s.CheckAsync("zfs", ZfsArgs.MountListed(clone.Value));
            Assert.Equal("yes", await s.PropertyAsync(clone.Value, "mounted"));
        },
        ["PoolStatus"] = async s =>
        {
            var status = PoolStatus.Parse(await s.CheckAsync("zpool", ZfsArgs.PoolStatus(DatasetName.Parse(s.Pool))));
            Assert.Equal("ONLINE", status.State);
            Assert.Empty(status.Problems);
            Assert.Equal("No known data errors", status.Errors);
            // A pool that is not imported: the bootstrap only logs this (zpool list decides), as "no such pool".
            var missing = ZfsArgs.PoolStatus(DatasetName.Parse($"zcmdnopool{Random.Shared.Next(1000, 9999)}"));
            var result = await s.RunAsync("zpool", missing);
            Assert.IsType<ZfsPoolUnavailableException>(ZfsErrors.Classify(new CommandLine("zpool", missing), result));
        },
        ["ListMounts"] = async s =>
        {
            var top = s.NewName("mounts");
            await s.CheckAsync("zfs", ZfsArgs.Create(top, []));
            var (on, noauto, unmounted) = (top.Child("on"), top.Child("noauto"), top.Child("unmounted"));
            await s.CheckAsync("zfs", ZfsArgs.Create(on, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(noauto, [new("canmount", "noauto")]));
            await s.CheckAsync("zfs", ZfsArgs.Create(unmounted, []));
            await s.CheckAsync("zfs", ZfsArgs.Unmount(unmounted));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(on, "s"), []));

            var rows = (await s.CheckAsync("zfs", ZfsArgs.ListMounts(top)))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('\t'))
                .ToDictionary(c => c[0]);

            // Every filesystem from the root down, snapshots left out; four tab-separated columns.
            Assert.Equal(
                new HashSet<string> { top.Value, on.Value, noauto.Value, unmounted.Value },
                rows.Keys.ToHashSet()
            );
            Assert.All(rows.Values, c => Assert.Equal(4, c.Length));
            Assert.Equal(new[] { await MountpointAsync(s, on), "on", "yes" }, rows[on.Value][1..]);
            Assert.Equal(new[] { "noauto", "no" }, rows[noauto.Value][2..]);
            Assert.Equal(new[] { "on", "no" }, rows[unmounted.Value][2..]);
        },
        ["MountListed"] = async s =>
        {
            // A space is a valid ZFS name character but not one DatasetName takes (the driver never makes
            // such a name); the bootstrap mounts any dataset of the pool by the name zfs listed.
            var name = $"{s.NewName("listed").Value} with space";
            await s.CheckAsync("zfs", ["create", name]);
            await s.CheckAsync("zfs", ["unmount", name]);
            Assert.Equal("no", await s.PropertyAsync(name, "mounted"));
            await s.CheckAsync("zfs", ZfsArgs.MountListed(name));
            Assert.Equal("yes", await s.PropertyAsync(name, "mounted"));
        },
        ["Rename"] = async s =>
        {
            var (from, to) = (s.NewName("rename"), s.NewName("renamed"));
            await s.CheckAsync("zfs", ZfsArgs.Create(from, [Marker]));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(from, "s"), []));
            var clone = s.NewName("renameclone");
            await s.CheckAsync("zfs", ZfsArgs.Clone(SnapshotName.Of(from, "s"), clone, []));
            await s.CheckRetryingBusyAsync("zfs", ZfsArgs.Rename(from, to));
            Assert.False(await s.ExistsAsync(from.Value));
            Assert.Equal("yes", await s.PropertyAsync(to.Value, Marker.Key));
            // The snapshot goes with its dataset, and the clone's origin follows it (by reference).
            Assert.True(await s.ExistsAsync($"{to.Value}@s"));
            Assert.Equal($"{to.Value}@s", await s.PropertyAsync(clone.Value, "origin"));
        },
        ["Snapshot"] = async s =>
        {
            var d = s.NewName("snapshot");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            var snap = SnapshotName.Of(d, "s");
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(snap, [Marker]));
            Assert.Equal("yes", await s.PropertyAsync(snap.Value, Marker.Key));
        },
        ["SnapshotMany"] = async s =>
        {
            var (a, b) = (s.NewName("many"), s.NewName("many"));
            await s.CheckAsync("zfs", ZfsArgs.Create(a, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(b, []));
            var (sa, sb) = (SnapshotName.Of(a, "g"), SnapshotName.Of(b, "g"));
            var result = await s.RunAsync("zfs", ZfsArgs.SnapshotMany([sa, sb], [Marker]));
            if (s.Host is VmStorageHost)
            {
                // OpenZFS: both in one transaction group, both with the property.
                Assert.True(result.Succeeded, $"openzfs: zfs snapshot {sa} {sb}: {result.StandardError.Trim()}");
                Assert.Equal(
                    await s.PropertyAsync(sa.Value, "createtxg"),
                    await s.PropertyAsync(sb.Value, "createtxg")
                );
                Assert.Equal("yes", await s.PropertyAsync(sb.Value, Marker.Key));
            }
            else
            {
                // zfs-fuse 0.7 takes one name only (the driver uses the recursive form there), and
                // refuses the rest as a usage error, having made neither snapshot.
                Assert.False(result.Succeeded, "zfs-fuse took two snapshot names in one zfs snapshot");
                Assert.Contains("too many arguments", result.StandardError, StringComparison.Ordinal);
                Assert.False(await s.ExistsAsync(sa.Value));
            }
        },
        ["SnapshotRecursive"] = async s =>
        {
            var parent = s.NewName("recsnap");
            var child = DatasetName.Parse($"{parent.Value}/c");
            await s.CheckAsync("zfs", ZfsArgs.Create(parent, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(child, []));
            await s.CheckAsync("zfs", ZfsArgs.SnapshotRecursive(SnapshotName.Of(parent, "r"), [Marker]));
            Assert.Equal(
                await s.PropertyAsync($"{parent.Value}@r", "createtxg"),
                await s.PropertyAsync($"{child.Value}@r", "createtxg")
            );
            Assert.Equal("yes", await s.PropertyAsync($"{child.Value}@r", Marker.Key));
        },
        ["Clone"] = async s =>
        {
            var d = s.NewName("origin");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            await s.ShellAsync("echo kept > \"$1\"/file", await MountpointAsync(s, d));
            var snap = SnapshotName.Of(d, "s");
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(snap, []));
            var clone = s.NewName("clone");
            await s.CheckAsync("zfs", ZfsArgs.Clone(snap, clone, [new("refquota", "64M"), Marker]));
            Assert.Equal(snap.Value, await s.PropertyAsync(clone.Value, "origin"));
            Assert.Equal("67108864", await s.PropertyAsync(clone.Value, "refquota"));
            Assert.Equal("kept\n", await s.ShellAsync("cat \"$1\"/file", await MountpointAsync(s, clone)));
        },
        ["DestroySnapshotDeferred"] = async s =>
        {
            var d = s.NewName("defer");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            var (alone, cloned) = (SnapshotName.Of(d, "alone"), SnapshotName.Of(d, "cloned"));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(alone, []));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(cloned, []));
            var clone = s.NewName("deferclone");
            await s.CheckAsync("zfs", ZfsArgs.Clone(cloned, clone, []));
            await s.CheckAsync("zfs", ZfsArgs.DestroySnapshotDeferred(alone));
            Assert.False(await s.ExistsAsync(alone.Value));
            await s.CheckAsync("zfs", ZfsArgs.DestroySnapshotDeferred(cloned));
            Assert.Equal("on", await s.PropertyAsync(cloned.Value, "defer_destroy"));
            await s.DestroyAsync(clone);
            Assert.False(await s.ExistsAsync(cloned.Value));
        },
        ["DestroyRecursive"] = async s =>
        {
            var d = s.NewName("destroy");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(d, "s"), []));
            await s.DestroyAsync(d);
            Assert.False(await s.ExistsAsync(d.Value));
        },
        ["DestroySnapshotRecursive"] = async s =>
        {
            var parent = s.NewName("destroyrec");
            var child = DatasetName.Parse($"{parent.Value}/c");
            await s.CheckAsync("zfs", ZfsArgs.Create(parent, []));
            await s.CheckAsync("zfs", ZfsArgs.Create(child, []));
            await s.CheckAsync("zfs", ZfsArgs.SnapshotRecursive(SnapshotName.Of(parent, "r"), []));
            await s.CheckAsync("zfs", ZfsArgs.DestroySnapshotRecursive(SnapshotName.Of(parent, "r")));
            Assert.False(await s.ExistsAsync($"{parent.Value}@r"));
            Assert.False(await s.ExistsAsync($"{child.Value}@r"));
            Assert.True(await s.ExistsAsync(child.Value));
        },
        ["Rollback"] = async s =>
        {
            var d = s.NewName("rollback");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            var mountpoint = await MountpointAsync(s, d);
            await s.ShellAsync("echo before > \"$1\"/file", mountpoint);
            var (first, last) = (SnapshotName.Of(d, "first"), SnapshotName.Of(d, "last"));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(first, []));
            await s.ShellAsync("echo after > \"$1\"/file", mountpoint);
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(last, []));
            await s.ShellAsync("echo later > \"$1\"/file", mountpoint);
            // Not the latest snapshot: refused without -r, nothing destroyed.
            Assert.False((await s.RunAsync("zfs", ZfsArgs.Rollback(first))).Succeeded);
            Assert.True(await s.ExistsAsync(last.Value));
            await s.CheckAsync("zfs", ZfsArgs.Rollback(last));
            Assert.Equal("after\n", await s.ShellAsync("cat \"$1\"/file", mountpoint));
        },
        ["RenameSnapshot"] = async s =>
        {
            var d = s.NewName("renamesnap");
            await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
            await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(d, "a"), [Marker]));
            await s.CheckAsync("zfs", ZfsArgs.RenameSnapshot(SnapshotName.Of(d, "a"), SnapshotName.Of(d, "b")));
            Assert.False(await s.ExistsAsync($"{d.Value}@a"));
            Assert.Equal("yes", await s.PropertyAsync($"{d.Value}@b", Marker.Key));
        },
    };

    /// <summary>The pool's health as <see cref="ZfsArgs.PoolHealth"/> reports it; null when it is not imported.</summary>
    private static async Task<string?> PoolHealthAsync(ScratchDatasets s, string pool) =>
        ZfsParser.ParsePoolHealth(await s.CheckAsync("zpool", ZfsArgs.PoolHealth())).GetValueOrDefault(pool);

    private static async Task<string> MountpointAsync(ScratchDatasets s, DatasetName d) =>
        await s.PropertyAsync(d.Value, "mountpoint") ?? throw new InvalidOperationException($"{d} has no mountpoint");

    /// <summary>
    /// OpenZFS: an encryption root made as the driver makes one (a passphrase file named by
    /// keylocation, here in the VM's /tmp) and a clone of its snapshot, both then unmounted and the
    /// key unloaded, as an import leaves them: (root, clone, key file).
    /// </summary>
    private static async Task<(DatasetName Root, DatasetName Clone, string Key)> LockedEncryptedWithCloneAsync(
        ScratchDatasets s,
        string hint
    )
    {
        var root = s.NewName(hint);
        var key = $"/tmp/zcmd-{root.Leaf}.key";
        await s.ShellAsync("printf 'correct horse battery staple' > \"$1\" && chmod 600 \"$1\"", key);
        await s.CheckAsync(
            "zfs",
            ZfsArgs.Create(
                root,
                [new("encryption", "on"), new("keyformat", "passphrase"), new("keylocation", $"file://{key}")]
            )
        );
        var snapshot = SnapshotName.Of(root, "s");
        await s.CheckAsync("zfs", ZfsArgs.Snapshot(snapshot, []));
        var clone = s.NewName(hint + "-clone");
        await s.CheckAsync("zfs", ZfsArgs.Clone(snapshot, clone, []));
        await s.CheckAsync("zfs", ZfsArgs.Unmount(clone));
        await s.CheckAsync("zfs", ZfsArgs.Unmount(root));
        await s.CheckAsync("zfs", ["unload-key", root.Value]);
        return (root, clone, key);
    }
}
