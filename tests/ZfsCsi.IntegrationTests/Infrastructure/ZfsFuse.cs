using System.Diagnostics;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>
/// The machine's one zfs-fuse daemon. Tests need it and never skip without it: when it is not
/// running it is started (as .ci/run and the README's lab do), and when it cannot be, the test
/// fails and says what to install.
/// </summary>
public static class ZfsFuse
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool _checked;

    public static async Task EnsureRunningAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_checked)
            {
                return;
            }
            if (!File.Exists("/usr/sbin/zfs-fuse") || !File.Exists("/usr/sbin/zpool"))
            {
                throw new InvalidOperationException("zfs-fuse is not installed: run 'apt-get install zfs-fuse' (lab/setup does it)");
            }
            if (await Sh.RunAsync("zpool", "list") is { ExitCode: 0 })
            {
                _checked = true;
                return;
            }
            await Sh.RunAsync("/usr/sbin/zfs-fuse", "-p", "/run/zfs-fuse.pid", "--no-kstat-mount");
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(15))
            {
                if (await Sh.RunAsync("zpool", "list") is { ExitCode: 0 })
                {
                    _checked = true;
                    return;
                }
                await Task.Delay(200);
            }
            throw new InvalidOperationException("zfs-fuse did not start within 15 s: is /dev/fuse there? try 'zfs-fuse -n' by hand to see why");
        }
        finally
        {
            Gate.Release();
        }
    }
}
