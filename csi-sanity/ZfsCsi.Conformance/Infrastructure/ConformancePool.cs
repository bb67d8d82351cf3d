namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// The suite's pool and parent dataset, on the storage host of <see cref="StorageHost.Current"/>.
/// On zfs-fuse: a pool of the suite's own, four sparse 128 MiB files as two mirrors like the
/// users' pool, made and destroyed here. On the OpenZFS VM: the VM's own pool "data" (four virtio
/// disks, two mirrors), with a parent dataset of the suite's own. Either way the run's tag carries
/// the test process id, so what a killed run left (pool or parent, driver) is found and removed by
/// the next one. Every zfs-fuse pool command that mounts holds the machine-wide mount lock
/// (<see cref="Shell.UnderMountLockAsync"/>).
/// </summary>
public sealed class ConformancePool
{
    public const string NamePrefix = "zcsan";
    private const string VdevRoot = "/var/tmp/zfs-csi-sanity";
    private const string RunRoot = "/tmp/zfs-csi-sanity";

    private static StorageHost Host => StorageHost.Current;

    /// <summary>This run's name: the zfs-fuse pool's name, and the OpenZFS parent's leaf.</summary>
    public string Tag { get; } = $"{NamePrefix}{Environment.ProcessId}x{Random.Shared.Next(0x10000, 0xfffff):x}";

    /// <summary>The pool: the suite's own on zfs-fuse, the VM's on OpenZFS.</summary>
    public string Name => Host is VmStorageHost ? VmStorageHost.PoolName : Tag;

    /// <summary>Where the pool's root dataset is mounted on the storage host.</summary>
    public string Mountpoint => Host is VmStorageHost ? VmStorageHost.PoolRoot : Path.Combine(RunRoot, Tag, "pool");

    /// <summary>Sockets, pid files and target paths of this run (on this machine).</summary>
    public string RunDirectory => Path.Combine(RunRoot, Tag, "run");

    /// <summary>The parent dataset the driver makes one child per volume in.</summary>
    public string Parent => Host is VmStorageHost ? $"{VmStorageHost.PoolName}/{Tag}" : $"{Tag}/k8s";

    private string VdevDirectory => Path.Combine(VdevRoot, Tag);

    public async Task CreateAsync()
    {
        Directory.CreateDirectory(RunDirectory);
        if (Host is VmStorageHost)
        {
            // As at the storage host's boot: the bootstrap loads the module and imports the pool (a
            // no-op when both are done), and the suite starts only once it says ready.
            var bootstrap = await Host.RunAsync(
                VmStorageHost.GuestBootstrap,
                [
                    "once",
                    "--pool",
                    VmStorageHost.PoolName,
                    "--import-mount",
                    "all",
                    "--no-rebuild",
                    "--status-file",
                    "",
                ],
                TimeSpan.FromMinutes(5)
            );
            if (bootstrap.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"openzfs: the bootstrap did not make the VM's pool ready (exit {bootstrap.ExitCode}):\n{bootstrap.StandardOutput}{bootstrap.StandardError}"
                );
            }
            await RemoveVmOrphansAsync();
            return;
        }
        await ZfsFuseDaemon.EnsureRunningAsync();
        await RemoveOrphansAsync();
        Directory.CreateDirectory(VdevDirectory);
        var vdevs = Enumerable.Range(1, 4).Select(i => Path.Combine(VdevDirectory, $"disk{i}")).ToArray();
        foreach (var vdev in vdevs)
        {
            await using var f = File.Create(vdev);
            f.SetLength(128L * 1024 * 1024);
        }
        var create = await Shell.UnderMountLockAsync(
            "zpool",
            "create",
            "-m",
            Mountpoint,
            Name,
            "mirror",
            vdevs[0],
            vdevs[1],
            "mirror",
            vdevs[2],
            vdevs[3]
        );
        if (create.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"zpool create {Name} failed ({create.ExitCode}): {create.StandardError.Trim()}"
            );
        }
    }

    /// <summary>Destroys the pool (or the VM's parent) and its files; safe to call when creation failed half-way.</summary>
    public Task DestroyAsync() => Host is VmStorageHost ? DestroyVmParentAsync(Tag) : DestroyAsync(Tag);

    private static async Task DestroyAsync(string pool)
    {
        // Binds a killed run left under its kubelet directory go first: they keep the pool busy,
        // and deleting the run directory must never descend into a volume.
        await UnmountRunAsync(pool);
        var list = await Shell.RunAsync("zpool", ["list", "-H", "-o", "name", pool]);
        if (list.ExitCode == 0)
        {
            // zfs-fuse answers "busy" for a moment after the last mount user (the driver) is gone.
            await RetryAsync(
                () => Shell.UnderMountLockAsync("zpool", "destroy", "-f", pool),
                10,
                TimeSpan.FromMilliseconds(500),
                $"zpool destroy {pool}"
            );
        }
        DeleteRunFiles(pool);
    }

    /// <summary>The VM's parent of one run, recursively (volumes, snapshots, clones), after its drivers stopped.</summary>
    private static async Task DestroyVmParentAsync(string tag)
    {
        await UnmountRunAsync(tag);
        var parent = $"{VmStorageHost.PoolName}/{tag}";
        // A driver a killed run started in the VM (its ssh session gone) may still serve there.
        await Host.RunAsync("pkill", ["-f", "--", $"--parent-dataset {parent}"]);
        if ((await Host.RunAsync("zfs", ["list", "-H", "-o", "name", parent])).ExitCode == 0)
        {
            await RetryAsync(
                () => Host.RunAsync("zfs", ["destroy", "-r", "-f", parent]),
                5,
                TimeSpan.FromSeconds(1),
                $"openzfs: zfs destroy -r {parent}"
            );
        }
        DeleteRunFiles(tag);
    }

    /// <summary>Runs a destroy until it succeeds, at most <paramref name="attempts"/> times; the last failure is thrown with its stderr.</summary>
    private static async Task RetryAsync(
        Func<Task<CliWrap.Buffered.BufferedCommandResult>> destroy,
        int attempts,
        TimeSpan pause,
        string what
    )
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await destroy();
            if (result.ExitCode == 0)
            {
                return;
            }
            if (attempt == attempts)
            {
                throw new InvalidOperationException(
                    $"{what} failed ({result.ExitCode}): {result.StandardError.Trim()}"
                );
            }
            await Task.Delay(pause);
        }
    }

    private static async Task UnmountRunAsync(string tag)
    {
        foreach (var mount in NodePlugin.MountsUnder(Path.Combine(RunRoot, tag, "run")).Reverse())
        {
            await Shell.RunAsync("umount", ["-l", mount]);
        }
    }

    private static void DeleteRunFiles(string tag)
    {
        foreach (var dir in new[] { Path.Combine(VdevRoot, tag), Path.Combine(RunRoot, tag) })
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>Whether <paramref name="tag"/> names a run of a process that is gone (killed, crashed).</summary>
    private static bool IsOrphan(string tag)
    {
        var x = tag.IndexOf('x', StringComparison.Ordinal);
        return tag.StartsWith(NamePrefix, StringComparison.Ordinal)
            && x > NamePrefix.Length
            && int.TryParse(tag[NamePrefix.Length..x], out var pid)
            && pid != Environment.ProcessId
            && !Directory.Exists($"/proc/{pid}");
    }

    /// <summary>Runs' directories on this machine (also of runs whose pool is already gone).</summary>
    private static IEnumerable<string> RunTags() =>
        new[] { RunRoot, VdevRoot }
            .Where(Directory.Exists)
            .SelectMany(Directory.GetDirectories)
            .Select(d => Path.GetFileName(d)!);

    /// <summary>
    /// Pools of suite runs whose process is gone are destroyed, after the driver such a run started
    /// (its pid file names it) is stopped.
    /// </summary>
    private static async Task RemoveOrphansAsync()
    {
        var list = await Shell.RunAsync("zpool", ["list", "-H", "-o", "name"]);
        var names = list
            .StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Concat(RunTags())
            .Distinct(StringComparer.Ordinal);
        foreach (var pool in names.Where(IsOrphan))
        {
            DriverProcess.KillOrphan(Path.Combine(RunRoot, pool, "run"), pool);
            await DestroyAsync(pool);
        }
    }

    /// <summary>The same on the VM: parents of dead runs under its pool, and their local run directories.</summary>
    private static async Task RemoveVmOrphansAsync()
    {
        var list = await Host.CheckAsync("zfs", "list", "-H", "-o", "name", "-d", "1", VmStorageHost.PoolName);
        var tags = list.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(n => n.StartsWith($"{VmStorageHost.PoolName}/", StringComparison.Ordinal))
            .Select(n => n[(VmStorageHost.PoolName.Length + 1)..])
            .Concat(RunTags())
            .Distinct(StringComparer.Ordinal);
        foreach (var tag in tags.Where(IsOrphan))
        {
            DriverProcess.KillOrphan(Path.Combine(RunRoot, tag, "run"), $"{VmStorageHost.PoolName}/{tag}");
            await DestroyVmParentAsync(tag);
        }
    }
}
