using CliWrap.Buffered;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>Runs the suite's own set-up commands (zpool, flock): argv only, always with a timeout.</summary>
public static class Shell
{
    /// <summary>The machine-wide lock every process that mounts on zfs-fuse takes (the driver too).</summary>
    public const string MountLockFile = "/run/lock/zfs-csi-mount.lock";

    public static Task<BufferedCommandResult> RunAsync(
        string program,
        IEnumerable<string> args,
        TimeSpan? timeout = null
    ) => StorageHost.RunHereAsync(program, args, timeout, input: null);

    /// <summary>Runs and requires exit code 0; the exception shows argv, exit code and stderr.</summary>
    public static async Task<string> CheckAsync(string program, params string[] args)
    {
        var result = await RunAsync(program, args);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException(
                $"{program} {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardError.Trim()}"
            );
    }

    /// <summary>
    /// Runs a mount-causing command (zpool create/destroy/import/export, zfs create/mount) under
    /// the machine-wide flock, via flock(1): concurrent mounts wedge zfs-fuse for every process
    /// on the machine (docs/zfs.md, "Mounts and the mount lock").
    /// </summary>
    public static Task<BufferedCommandResult> UnderMountLockAsync(params string[] argv) =>
        RunAsync("flock", ["-w", "300", MountLockFile, .. argv], TimeSpan.FromSeconds(330));
}
