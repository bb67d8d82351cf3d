using ZfsCsi.Core.Zfs;
using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.ZfsCommands;

/// <summary>
/// A throwaway pool of one file vdev under /var/tmp on the storage host, for the cases that import
/// and export (the scratch parent's pool stays imported under the other cases). Named like
/// <see cref="TestPool"/>'s pools (prefix, process id), so what a killed run leaves on zfs-fuse is
/// destroyed by the next run or lab/sweep. Every zpool command goes through
/// <see cref="ScratchDatasets.RunAsync"/>: on zfs-fuse under the machine-wide mount lock.
/// </summary>
public sealed class FilePool(ScratchDatasets scratch) : IAsyncDisposable
{
    public string Name { get; } =
        $"{TestPool.NamePrefix}{Environment.ProcessId}x{Random.Shared.Next(0x10000, 0xfffff):x}";

    public DatasetName Pool => DatasetName.Parse(Name);

    /// <summary>Where its disk file lives: the directory an import searches (-d).</summary>
    public string Directory => $"/var/tmp/zfs-csi-tests/{Name}";

    public string Disk => $"{Directory}/disk1";

    public string Mountpoint => $"{Directory}/mnt";

    /// <summary>Makes the pool; <paramref name="mounted"/>: its root at <see cref="Mountpoint"/> (and children below it), else mountpoint none.</summary>
    public async Task CreateAsync(bool mounted)
    {
        await scratch.ShellAsync("rm -rf \"$1\" && mkdir -p \"$1\" && truncate -s 128M \"$2\"", Directory, Disk);
        await scratch.CheckAsync("zpool", ["create", "-m", mounted ? Mountpoint : "none", Name, Disk]);
    }

    /// <summary>zpool export, retrying "busy": zfs-fuse refuses for a moment after a mount (docs/zfs.md, "Mounts and the mount lock").</summary>
    public Task ExportAsync() => RetryBusyAsync(["export", Name], require: true);

    /// <summary>zpool destroy -f of whatever pool has the name now (the original, or its disks imported again), retrying "busy".</summary>
    public Task DestroyAsync() => RetryBusyAsync(["destroy", "-f", Name], require: false);

    public async ValueTask DisposeAsync()
    {
        await DestroyAsync();
        // A pool still imported keeps its files (and its mounts under the directory) for the next
        // run's orphan removal; the directory goes only with the pool.
        if (
            !(await scratch.RunAsync("zpool", ZfsArgs.PoolHealth()))
                .StandardOutput.Split('\n')
                .Any(l => l.Split('\t')[0] == Name)
        )
        {
            await scratch.ShellAsync("rm -rf \"$1\"", Directory);
        }
    }

    private async Task RetryBusyAsync(string[] argv, bool require)
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await scratch.RunAsync("zpool", argv);
            if (result.Succeeded || !result.StandardError.Contains("busy", StringComparison.Ordinal) || attempt == 20)
            {
                Assert.True(
                    result.Succeeded || !require,
                    $"{scratch.Backend}: zpool {string.Join(' ', argv)} exited {result.ExitCode}: {result.StandardError.Trim()}"
                );
                return;
            }
            await Task.Delay(250);
        }
    }
}
