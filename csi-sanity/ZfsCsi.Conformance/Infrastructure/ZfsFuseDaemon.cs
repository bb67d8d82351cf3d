using System.Diagnostics;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// The machine's one zfs-fuse daemon. The suite never skips without it: it is started when it is
/// not running, and when it cannot be, the suite fails and says what to install.
/// </summary>
public static class ZfsFuseDaemon
{
    public static async Task EnsureRunningAsync()
    {
        if (!File.Exists("/usr/sbin/zfs-fuse") || !File.Exists("/usr/sbin/zpool"))
        {
            throw new InvalidOperationException("zfs-fuse is not installed: run 'apt-get install zfs-fuse' (lab/setup does it)");
        }
        if ((await Shell.RunAsync("zpool", ["list"])).ExitCode == 0)
        {
            return;
        }
        await Shell.RunAsync("/usr/sbin/zfs-fuse", ["-p", "/run/zfs-fuse.pid", "--no-kstat-mount"]);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            if ((await Shell.RunAsync("zpool", ["list"])).ExitCode == 0)
            {
                return;
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException("zfs-fuse did not start within 15 s: is /dev/fuse there? try 'zfs-fuse -n' by hand to see why");
    }
}
