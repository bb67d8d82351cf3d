namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// A real zfs-fuse pool of the suite's own: four sparse 128 MiB files as two mirrors, like the
/// users' pool. Its name carries the test process id, so a pool (and driver) left by a killed run
/// is found and removed by the next one. Every pool command that mounts holds the machine-wide
/// mount lock (<see cref="Shell.UnderMountLockAsync"/>).
/// </summary>
public sealed class ConformancePool
{
    public const string NamePrefix = "zcsan";
    private const string VdevRoot = "/var/tmp/zfs-csi-sanity";
    private const string RunRoot = "/tmp/zfs-csi-sanity";

    public string Name { get; } = $"{NamePrefix}{Environment.ProcessId}x{Random.Shared.Next(0x10000, 0xfffff):x}";

    /// <summary>Where the pool's root dataset is mounted (the node plugin's data root on this host).</summary>
    public string Mountpoint => Path.Combine(RunRoot, Name, "pool");

    /// <summary>Sockets, pid files and target paths of this run.</summary>
    public string RunDirectory => Path.Combine(RunRoot, Name, "run");

    /// <summary>The parent dataset the driver makes one child per volume in.</summary>
    public string Parent => $"{Name}/k8s";

    private string VdevDirectory => Path.Combine(VdevRoot, Name);

    public async Task CreateAsync()
    {
        await ZfsFuseDaemon.EnsureRunningAsync();
        await RemoveOrphansAsync();
        Directory.CreateDirectory(VdevDirectory);
        Directory.CreateDirectory(RunDirectory);
        var vdevs = Enumerable.Range(1, 4).Select(i => Path.Combine(VdevDirectory, $"disk{i}")).ToArray();
        foreach (var vdev in vdevs)
        {
            await using var f = File.Create(vdev);
            f.SetLength(128L * 1024 * 1024);
        }
        var create = await Shell.UnderMountLockAsync("zpool", "create", "-m", Mountpoint, Name, "mirror", vdevs[0], vdevs[1], "mirror", vdevs[2], vdevs[3]);
        if (create.ExitCode != 0)
        {
            throw new InvalidOperationException($"zpool create {Name} failed ({create.ExitCode}): {create.StandardError.Trim()}");
        }
    }

    /// <summary>Destroys the pool and its files; safe to call when creation failed half-way.</summary>
    public Task DestroyAsync() => DestroyAsync(Name);

    private static async Task DestroyAsync(string pool)
    {
        // Binds a killed run left under its kubelet directory go first: they keep the pool busy,
        // and deleting the run directory must never descend into a volume.
        foreach (var mount in NodePlugin.MountsUnder(Path.Combine(RunRoot, pool, "run")).Reverse())
        {
            await Shell.RunAsync("umount", ["-l", mount]);
        }
        var list = await Shell.RunAsync("zpool", ["list", "-H", "-o", "name", pool]);
        if (list.ExitCode == 0)
        {
            // zfs-fuse answers "busy" for a moment after the last mount user (the driver) is gone.
            for (var attempt = 1; ; attempt++)
            {
                var destroy = await Shell.UnderMountLockAsync("zpool", "destroy", "-f", pool);
                if (destroy.ExitCode == 0)
                {
                    break;
                }
                if (attempt == 10)
                {
                    throw new InvalidOperationException($"zpool destroy {pool} failed ({destroy.ExitCode}): {destroy.StandardError.Trim()}");
                }
                await Task.Delay(500);
            }
        }
        foreach (var dir in new[] { Path.Combine(VdevRoot, pool), Path.Combine(RunRoot, pool) })
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>
    /// Pools of suite runs whose process is gone (killed, crashed) are destroyed, after the driver
    /// such a run started (its pid file names it) is stopped.
    /// </summary>
    private static async Task RemoveOrphansAsync()
    {
        var list = await Shell.RunAsync("zpool", ["list", "-H", "-o", "name"]);
        // Pools, and the directories of runs whose pool is already gone.
        var names = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { RunRoot, VdevRoot }.Where(Directory.Exists).SelectMany(Directory.GetDirectories).Select(d => Path.GetFileName(d)!))
            .Distinct(StringComparer.Ordinal);
        foreach (var pool in names)
        {
            var x = pool.IndexOf('x', StringComparison.Ordinal);
            if (pool.StartsWith(NamePrefix, StringComparison.Ordinal) && x > NamePrefix.Length
                && int.TryParse(pool[NamePrefix.Length..x], out var pid)
                && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                DriverProcess.KillOrphan(Path.Combine(RunRoot, pool, "run"), pool);
                await DestroyAsync(pool);
            }
        }
    }
}
