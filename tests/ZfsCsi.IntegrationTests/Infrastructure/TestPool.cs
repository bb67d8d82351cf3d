using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>
/// A real zfs-fuse pool of its own for one test class, laid out like the seed's (two mirrors of
/// two disks) on sparse files. Its name carries the test process id, so a pool left by a killed
/// run is found and destroyed by the next one. Pool-level commands that mount take the same
/// machine-wide lock as the driver (docs/zfs.md, "Mounts and the mount lock": concurrent mounts wedge zfs-fuse).
/// </summary>
public sealed class TestPool : IAsyncLifetime
{
    public const string NamePrefix = "zcsit";
    public const string LockFile = "/run/lock/zfs-csi-mount.lock";
    private static readonly string Root = "/var/tmp/zfs-csi-tests";

    public string Name { get; } = $"{NamePrefix}{Environment.ProcessId}x{Random.Shared.Next(0x10000, 0xfffff):x}";

    public string Mountpoint => MountpointOf(Name);

    public string VdevDirectory => Path.Combine(Root, Name);

    public IReadOnlyList<string> Vdevs =>
        [.. Enumerable.Range(1, 4).Select(i => Path.Combine(VdevDirectory, $"disk{i}"))];

    /// <summary>The parent dataset volumes go under, like data/k8s in production.</summary>
    public string Parent => $"{Name}/k8s";

    public async Task InitializeAsync()
    {
        await ZfsFuse.EnsureRunningAsync();
        await DestroyOrphansAsync();
        Directory.CreateDirectory(VdevDirectory);
        foreach (var vdev in Vdevs)
        {
            await using var f = File.Create(vdev);
            f.SetLength(128L * 1024 * 1024);
        }
        await WithMountLockAsync(async () =>
        {
            await Sh.CheckAsync(
                "zpool",
                "create",
                "-m",
                Mountpoint,
                Name,
                "mirror",
                Vdevs[0],
                Vdevs[1],
                "mirror",
                Vdevs[2],
                Vdevs[3]
            );
            await Sh.CheckAsync("zfs", "create", Parent);
        });
    }

    public async Task DisposeAsync() => await DestroyAsync(Name);

    /// <summary>Runs a mount-causing command under the lock the driver takes too.</summary>
    public static async Task<T> WithMountLockAsync<T>(Func<Task<T>> action)
    {
        using var _ = await MountSerializer.FileLock.AcquireAsync(LockFile, CancellationToken.None);
        return await action();
    }

    public static Task WithMountLockAsync(Func<Task> action) =>
        WithMountLockAsync(async () =>
        {
            await action();
            return 0;
        });

    /// <summary>
    /// A ready volume of ours under the parent, made straight with zfs: 1 MiB, default parameters,
    /// never mounted (canmount=off), so a test grows an inventory in seconds. Returns its dataset.
    /// </summary>
    public Task<string> MakeReadyVolumeByHandAsync(string name) =>
        MakeVolumeByHandAsync(name, Markers.StateReady, "refquota=1048576");

    /// <summary>
    /// A volume of ours in <paramref name="state"/> under the parent, made straight with zfs (as a
    /// crash or an older driver could have left it): default parameters, canmount=off, and the
    /// <paramref name="properties"/> (NAME=VALUE). Returns its dataset.
    /// </summary>
    public async Task<string> MakeVolumeByHandAsync(string name, string state, params string[] properties)
    {
        var dataset = $"{Parent}/{name}";
        string[] markers =
        [
            "canmount=off",
            .. properties,
            $"{Markers.CsiName}={Markers.EncodeName(name)}",
            $"{Markers.ParametersDigest}={VolumeParameters.Default.Digest}",
            $"{Markers.State}={state}",
        ];
        await WithMountLockAsync(() =>
            Sh.CheckAsync("zfs", ["create", .. markers.SelectMany(p => new[] { "-o", p }), dataset])
        );
        return dataset;
    }

    /// <summary>
    /// What a person on the storage host does to a published volume: <c>zfs unmount</c>, under the
    /// mount lock. The SFTP server of a node's SSHFS mount can hold the directory for a moment (a
    /// stat or a listing in flight), which umount calls busy; like the driver, this tries again
    /// (for up to 10 s) instead of failing on the first busy.
    /// </summary>
    public static async Task UnmountPublishedAsync(string dataset)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var result = await WithMountLockAsync(() => Sh.RunAsync("zfs", "unmount", dataset));
            if (result.ExitCode == 0)
            {
                return;
            }
            if (!result.StandardError.Contains("busy", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException(
                    $"zfs unmount {dataset} exited {result.ExitCode}: {result.StandardError.Trim()}"
                );
            }
            await Task.Delay(200);
        }
    }

    private static async Task DestroyAsync(string pool)
    {
        // zfs-fuse answers "pool is busy" for a moment after a mount (docs/zfs.md, "Mounts and the mount lock"): a test
        // class that finishes quickly must still leave no pool behind, so busy is retried.
        var destroyed = false;
        for (var attempt = 1; attempt <= 20; attempt++)
        {
            var result = await WithMountLockAsync(() => Sh.RunAsync("zpool", "destroy", "-f", pool));
            destroyed = result.ExitCode == 0;
            if (destroyed || !result.StandardError.Contains("busy", StringComparison.Ordinal))
            {
                break;
            }
            await Task.Delay(250);
        }
        var dir = Path.Combine(Root, pool);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        // zpool destroy leaves the empty mountpoint directory behind; after a failed destroy it is
        // still the pool's mount and is left alone.
        var mountpoint = MountpointOf(pool);
        if (destroyed && Directory.Exists(mountpoint) && !Directory.EnumerateFileSystemEntries(mountpoint).Any())
        {
            Directory.Delete(mountpoint);
        }
    }

    private static string MountpointOf(string pool) => $"/tmp/zfs-csi-tests/{pool}";

    /// <summary>Pools of test processes that no longer run (killed, crashed) are destroyed.</summary>
    private static async Task DestroyOrphansAsync()
    {
        var list = await Sh.RunAsync("zpool", "list", "-H", "-o", "name");
        foreach (var pool in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (
                pool.StartsWith(NamePrefix, StringComparison.Ordinal)
                && int.TryParse(pool[NamePrefix.Length..pool.IndexOf('x', StringComparison.Ordinal)], out var pid)
                && pid != Environment.ProcessId
                && !Directory.Exists($"/proc/{pid}")
            )
            {
                await DestroyAsync(pool);
            }
        }
    }
}
