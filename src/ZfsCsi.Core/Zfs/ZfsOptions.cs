namespace ZfsCsi.Core.Zfs;

/// <summary>How the driver reaches ZFS. Validated at start-up (see the driver's options validation).</summary>
public sealed class ZfsOptions
{
    /// <summary>The zfs program (a path, or a name looked up on PATH).</summary>
    public string ZfsCommand { get; set; } = "zfs";

    /// <summary>The zpool program.</summary>
    public string ZpoolCommand { get; set; } = "zpool";

    /// <summary>Every zfs/zpool command is killed after this long, so a hung pool fails an RPC instead of hanging it.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The lock file shared by every process that mounts on this machine's ZFS (see <see cref="MountSerializer"/>).
    /// Empty: serialize within this process only, which is enough for OpenZFS with one driver.
    /// </summary>
    public string MountLockFile { get; set; } = "/run/lock/zfs-csi-mount.lock";

    /// <summary>
    /// The longest wait for the mount lock before an RPC fails with DEADLINE_EXCEEDED: long enough
    /// for a queue of creates on a busy machine, short enough that a process holding the lock for
    /// ever (a hung `flock ... zfs mount` by hand) cannot hang RPCs.
    /// </summary>
    public TimeSpan MountLockTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a "dataset is busy" unmount or destroy is tried before the dataset counts as in use.</summary>
    public int BusyAttempts { get; set; } = 8;

    /// <summary>The pause between busy retries (zfs-fuse releases a fresh mount within a few tens of ms).</summary>
    public TimeSpan BusyRetryDelay { get; set; } = TimeSpan.FromMilliseconds(25);
}
