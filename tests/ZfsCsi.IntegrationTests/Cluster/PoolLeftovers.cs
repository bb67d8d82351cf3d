using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>
/// zfs-fuse refuses to destroy a dataset mounted a moment ago ("busy", docs/zfs.md, "Mounts and the mount lock"), and
/// TestPool's single `zpool destroy -f` then leaves the pool imported. Seen after tests that
/// unmount and mount a volume again: retried here, under the mount lock, until the pool is gone.
/// </summary>
public static class PoolLeftovers
{
    public static async Task EnsureDestroyedAsync(string pool)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if ((await Sh.RunAsync("zpool", "list", "-H", "-o", "name", pool)).ExitCode != 0)
            {
                return;
            }
            await Task.Delay(200 * attempt);
            await TestPool.WithMountLockAsync(() => Sh.RunAsync("zpool", "destroy", "-f", pool));
        }
        throw new InvalidOperationException($"test pool {pool} could not be destroyed: run 'zpool destroy -f {pool}'");
    }
}
