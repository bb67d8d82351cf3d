namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>
/// The machine's one zfs-fuse daemon. Tests need it and never skip without it: lab/zfs-fuse-up (the
/// script lab/setup and csi-sanity/run use too) starts it when none answers, and when it cannot, the
/// test fails with the script's reason.
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
            if (!_checked)
            {
                await Sh.CheckAsync(Repository.PathOf("lab/zfs-fuse-up"));
                _checked = true;
            }
        }
        finally
        {
            Gate.Release();
        }
    }
}
