namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// The machine's one zfs-fuse daemon. The suite never skips without it: lab/zfs-fuse-up (the script
/// lab/setup uses too) starts it when none answers, and when it cannot, the suite fails with the
/// script's reason.
/// </summary>
public static class ZfsFuseDaemon
{
    public static Task EnsureRunningAsync() => Shell.CheckAsync(Path.Combine(RepoLayout.Root, "lab", "zfs-fuse-up"));
}
