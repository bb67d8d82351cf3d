using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.ZfsCommands;

/// <summary>
/// A situation that makes zfs fail with <see cref="Text"/> (one entry of <see cref="ZfsErrors"/>),
/// made on the real pool: what the backend prints there must classify as <see cref="Expected"/>.
/// <see cref="PrintedBy"/> says which backends print this very text (the other one's own words for
/// the same situation must still classify the same).
/// </summary>
public sealed record ZfsErrorCase(
    string Text,
    Type Expected,
    string Situation,
    Func<ScratchDatasets, Task<(CommandLine Command, CommandResult Result)>> Provoke
)
{
    public IReadOnlySet<string> PrintedBy { get; init; } = new HashSet<string> { "zfs-fuse", "openzfs" };

    public override string ToString() => Text;
}

/// <summary>
/// One case per text of <see cref="ZfsErrors"/>. <see cref="ZfsCommandCoverageTests"/> fails when a
/// text has no case (and is not one of its listed known gaps).
/// </summary>
public static class ZfsErrorCases
{
    private static readonly HashSet<string> OpenZfsOnly = ["openzfs"];
    private static readonly HashSet<string> ZfsFuseOnly = ["zfs-fuse"];

    public static IReadOnlyList<ZfsErrorCase> All { get; } =
    [
        new(
            "no such pool",
            typeof(ZfsPoolUnavailableException),
            "a dataset created in a pool that is not imported",
            s => Run(s, "zfs", ZfsArgs.Create(DatasetName.Parse($"zcmdnopool{Random.Shared.Next(1000, 9999)}/x"), []))
        ),
        new(
            "is currently unavailable",
            typeof(ZfsPoolUnavailableException),
            "an import of a pool one of whose two disks is gone (the bootstrap's import after a disk died)",
            async s =>
            {
                var pool = $"zcmdu{Environment.ProcessId}";
                var dir = $"/var/tmp/{pool}";
                await s.ShellAsync("rm -rf \"$1\" && mkdir -p \"$1\" && truncate -s 128M \"$1\"/a \"$1\"/b", dir);
                try
                {
                    await s.CheckAsync("zpool", ["create", "-m", "none", pool, $"{dir}/a", $"{dir}/b"]);
                    await s.CheckAsync("zpool", ["export", pool]);
                    await s.ShellAsync("rm \"$1\"/b", dir);
                    return await Run(s, "zpool", ["import", "-d", dir, pool]);
                }
                finally
                {
                    await s.RunAsync("zpool", ["destroy", "-f", pool]);
                    await s.ShellAsync("rm -rf \"$1\"", dir);
                }
            }
        )
        {
            // OpenZFS 2.3: "cannot import 'x': no such pool or dataset" (classified by "no such pool").
            PrintedBy = ZfsFuseOnly,
        },
        new(
            "property value too long",
            typeof(ZfsInvalidArgumentException),
            "a user property value longer than ZFS stores (8 KiB)",
            async s =>
                await Run(
                    s,
                    "zfs",
                    ZfsArgs.Set(await CreatedAsync(s, "longvalue"), "org.zfs-csi:long", new string('v', 8200))
                )
        )
        {
            PrintedBy = OpenZfsOnly,
        },
        new(
            "argument list too long",
            typeof(ZfsInvalidArgumentException),
            "a user property value longer than ZFS stores, at create",
            s =>
                Run(s, "zfs", ZfsArgs.Create(s.NewName("longcreate"), [new("org.zfs-csi:long", new string('v', 8200))]))
        )
        {
            // OpenZFS: "property value too long" (the case above).
            PrintedBy = ZfsFuseOnly,
        },
        new(
            "no such pool available",
            typeof(ZfsPoolNotFoundForImportException),
            "an import (the bootstrap's argv) from a directory that holds no pool of that name",
            async s =>
            {
                var dir = $"/var/tmp/zfs-csi-tests/zcmdnone{Environment.ProcessId}";
                await s.ShellAsync("mkdir -p \"$1\"", dir);
                try
                {
                    return await Run(
                        s,
                        "zpool",
                        ZfsArgs.PoolImport(
                            DatasetName.Parse($"zcmdnopool{Random.Shared.Next(1000, 9999)}"),
                            [dir],
                            mount: true
                        )
                    );
                }
                finally
                {
                    await s.ShellAsync("rm -rf \"$1\"", dir);
                }
            }
        ),
        new(
            "in use from",
            typeof(ZfsPoolInUseElsewhereException),
            "an import (the bootstrap's argv) of disks whose pool was never exported, by a host with another hostid (the disks of a host that died, attached to another)",
            ProvokeInUseElsewhereAsync
        ),
        new("dataset does not exist", typeof(DatasetNotFoundException), "a get of a dataset that is not there", s =>
            Run(s, "zfs", ZfsArgs.GetNamed(["type"], [s.NewName("absent").Value]))
        ),
        new(
            "could not find any snapshots to destroy",
            typeof(DatasetNotFoundException),
            "a recursive destroy of a snapshot leaf no dataset has",
            async s =>
            {
                var d = await CreatedAsync(s, "nosnap");
                return await Run(s, "zfs", ZfsArgs.DestroySnapshotRecursive(SnapshotName.Of(d, "absent")));
            }
        )
        {
            // zfs-fuse: "cannot destroy 'p/d@absent': dataset does not exist / no snapshots destroyed".
            PrintedBy = OpenZfsOnly,
        },
        new("dataset already exists", typeof(DatasetExistsException), "a create of a name that exists", async s =>
            await Run(s, "zfs", ZfsArgs.Create(await CreatedAsync(s, "twice"), []))
        ),
        new(
            "is busy",
            typeof(DatasetBusyException),
            "an unmount while a process has its working directory in the dataset",
            async s =>
            {
                var d = await CreatedAsync(s, "busy");
                var mountpoint = await s.PropertyAsync(d.Value, "mountpoint") ?? "";
                // The holder lives only as long as this one shell on the storage host.
                var command = new CommandLine(
                    "sh",
                    "-c",
                    "(cd \"$1\" && exec sleep 60) & holder=$!; sleep 2; zfs unmount \"$2\"; rc=$?; kill $holder; wait; exit $rc",
                    "sh",
                    mountpoint,
                    d.Value
                );
                return (command, await s.RunAsync(command.Program, command.Arguments));
            }
        ),
        new(
            "has children",
            typeof(DatasetHasDependentsException),
            "a destroy without -r of a dataset with a child",
            async s =>
            {
                var d = await CreatedAsync(s, "parent");
                await s.CheckAsync("zfs", ZfsArgs.Create(DatasetName.Parse($"{d.Value}/child"), []));
                return await Run(s, "zfs", ["destroy", d.Value]);
            }
        ),
        new(
            "dependent clones",
            typeof(DatasetHasDependentsException),
            "a recursive destroy of a dataset whose snapshot has a clone",
            async s =>
            {
                var d = await CreatedAsync(s, "cloned");
                await s.CheckAsync("zfs", ZfsArgs.Snapshot(SnapshotName.Of(d, "s"), []));
                await s.CheckAsync("zfs", ZfsArgs.Clone(SnapshotName.Of(d, "s"), s.NewName("clone"), []));
                return await Run(s, "zfs", ZfsArgs.DestroyRecursive(d));
            }
        ),
        new(
            "size is less than current used or reserved space",
            typeof(ZfsQuotaBelowUsageException),
            "a refquota set below what the dataset holds",
            async s =>
            {
                var d = await CreatedAsync(s, "full");
                await s.ShellAsync(
                    "head -c 3145728 /dev/urandom > \"$1\"/data && sync",
                    await s.PropertyAsync(d.Value, "mountpoint") ?? ""
                );
                return await Run(s, "zfs", ZfsArgs.Set(d, "refquota", "1M"));
            }
        ),
        new("out of space", typeof(ZfsOutOfSpaceException), "a create with a reservation larger than the pool", s =>
            Run(s, "zfs", ZfsArgs.Create(s.NewName("huge"), [new("refreservation", "100T")]))
        ),
        new(
            "size is greater than available space",
            typeof(ZfsOutOfSpaceException),
            "a reservation set larger than the pool",
            async s => await Run(s, "zfs", ZfsArgs.Set(await CreatedAsync(s, "reserve"), "refreservation", "100T"))
        ),
        new(
            "bad property value",
            typeof(ZfsInvalidArgumentException),
            "an index property set to a value it does not have",
            async s => await Run(s, "zfs", ZfsArgs.Set(await CreatedAsync(s, "badvalue"), "compression", "bogus"))
        )
        {
            // libzfs's generic description of EZFS_BADPROP, printed only when no detail is known.
            // Neither backend printed it for anything tried (index, numeric, path, user and
            // feature-gated properties): both say "'compression' must be one of …" here.
            PrintedBy = new HashSet<string>(),
        },
        new("bad numeric value", typeof(ZfsInvalidArgumentException), "a size property set to a word", async s =>
            await Run(s, "zfs", ZfsArgs.Set(await CreatedAsync(s, "badnumber"), "refquota", "lots"))
        ),
        new("invalid property", typeof(ZfsInvalidArgumentException), "a native property that does not exist", async s =>
            await Run(s, "zfs", ZfsArgs.Set(await CreatedAsync(s, "badname"), "nosuchproperty", "1"))
        ),
        new(
            "must be one of",
            typeof(ZfsInvalidArgumentException),
            "an on/off property set to something else, at create",
            s => Run(s, "zfs", ZfsArgs.Create(s.NewName("badatime"), [new("atime", "sometimes")]))
        ),
        new(
            "must be power of 2",
            typeof(ZfsInvalidArgumentException),
            "a recordsize that is not a power of two",
            async s => await Run(s, "zfs", ZfsArgs.Set(await CreatedAsync(s, "recordsize"), "recordsize", "1000"))
        ),
        new(
            "invalid character",
            typeof(ZfsInvalidArgumentException),
            "a dataset name with a character ZFS refuses",
            s => Run(s, "zfs", ["create", $"{s.Root.Value}/bad%name"])
        ),
        new("name is too long", typeof(ZfsInvalidArgumentException), "a dataset name longer than ZFS takes", s =>
            Run(s, "zfs", ["create", $"{s.Root.Value}/{new string('n', 300)}"])
        ),
        new("use 'none' to disable", typeof(ZfsInvalidArgumentException), "a quota of zero", async s =>
            await Run(s, "zfs", ZfsArgs.Set(await CreatedAsync(s, "zeroquota"), "refquota", "0"))
        ),
        new("is readonly", typeof(ZfsInvalidArgumentException), "a create that sets a property ZFS computes", s =>
            Run(s, "zfs", ZfsArgs.Create(s.NewName("readonly"), [new("used", "1M")]))
        ),
        new(
            "does not apply to datasets of this type",
            typeof(ZfsInvalidArgumentException),
            "a volume's property given to a file system",
            s => Run(s, "zfs", ZfsArgs.Create(s.NewName("wrongtype"), [new("volblocksize", "8K")]))
        ),
    ];

    /// <summary>The hostid the other host has: 0xdeadbeef (as /etc/hostid holds it: four bytes, little-endian).</summary>
    private const string OtherHostId = "deadbeef";

    /// <summary>
    /// Disks of a pool that was never exported, imported by another host. The pool's disk is copied
    /// while it is imported (so the copy's label says in use, with this host's hostid), the pool is
    /// destroyed (the copy is the only pool of its name), and the copy is imported by a zpool that
    /// sees another hostid: zfs-fuse's zpool reads gethostid(3), so it runs in a private mount
    /// namespace with another /etc/hostid over an overlay of /etc (the machine's own /etc is never
    /// written); OpenZFS's zpool takes ZFS_HOSTID from the environment first (docs/zfs.md, "CLI differences").
    /// </summary>
    private static async Task<(CommandLine, CommandResult)> ProvokeInUseElsewhereAsync(ScratchDatasets s)
    {
        await using var pool = new FilePool(s);
        await pool.CreateAsync(mounted: false);
        var copies = $"{pool.Directory}/copies";
        if (s.Host is VmStorageHost)
        {
            // Everything written so far on the disk before it is copied (zfs-fuse has no zpool sync; its
            // create returns once the new pool is written).
            await s.CheckAsync("zpool", ["sync", pool.Name]);
        }
        await s.ShellAsync("mkdir \"$2\" && cp --sparse=always \"$1\" \"$2\"/", pool.Disk, copies);
        await pool.DestroyAsync();
        var hostid = (await s.ShellAsync("hostid")).Trim();
        Assert.True(
            hostid != OtherHostId,
            $"{s.Backend}: this host's hostid is the one the case gives the other host ({hostid})"
        );

        var import = ZfsArgs.PoolImport(pool.Pool, [copies], mount: true);
        var command =
            s.Host is VmStorageHost
                ? new CommandLine("env", [$"ZFS_HOSTID=0x{OtherHostId}", "zpool", .. import])
                : new CommandLine(
                    "unshare",
                    [
                        "-m",
                        "sh",
                        "-c",
                        """mkdir -p "$1/etc-upper" "$1/etc-work" && mount -t overlay overlay -o lowerdir=/etc,upperdir="$1/etc-upper",workdir="$1/etc-work" /etc && printf '\357\276\255\336' > /etc/hostid && shift && exec "$@" """,
                        "sh",
                        pool.Directory,
                        "zpool",
                        .. import,
                    ]
                );
        // Should the import succeed (the check failed to see another host), the pool goes with FilePool.
        return (command, await s.RunAsync(command.Program, command.Arguments));
    }

    private static async Task<DatasetName> CreatedAsync(ScratchDatasets s, string hint)
    {
        var d = s.NewName(hint);
        await s.CheckAsync("zfs", ZfsArgs.Create(d, []));
        return d;
    }

    private static async Task<(CommandLine, CommandResult)> Run(ScratchDatasets s, string program, string[] argv) =>
        (new CommandLine(program, argv), await s.RunAsync(program, argv));
}
