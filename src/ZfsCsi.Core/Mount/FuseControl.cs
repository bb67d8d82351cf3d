using System.Globalization;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// The kernel's FUSE control filesystem, fusectl (the kernel's Documentation/filesystems/fuse.rst,
/// "Control filesystem"): one directory per FUSE connection, named by its device number, whose
/// abort file ends the connection. Every call waiting on the daemon fails at once, every later
/// call fails with ENOTCONN, and the daemon (sshfs) sees its /dev/fuse close and exits. It is the
/// one way to release calls stuck on a FUSE daemon that neither answers nor dies.
/// </summary>
public static class FuseControl
{
    public const string MountPoint = "/sys/fs/fuse/connections";
    public const string FsType = "fusectl";

    /// <summary>
    /// The abort file of the connection behind a mount whose mountinfo device is
    /// <paramref name="device"/> ("major:minor"), or null when that is not a device number. The
    /// directory is the kernel's dev_t, (major &lt;&lt; 20) | minor: for FUSE's anonymous devices
    /// (major 0) simply the minor.
    /// </summary>
    public static string? AbortFile(string device)
    {
        var colon = device.IndexOf(':', StringComparison.Ordinal);
        if (
            colon < 1
            || !uint.TryParse(device.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !uint.TryParse(device.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            || major >= 1 << 12
            || minor >= 1 << 20
        )
        {
            return null;
        }
        return $"{MountPoint}/{((ulong)major << 20) | minor}/abort";
    }

    /// <summary>
    /// Aborts the FUSE connection behind a mount of <paramref name="device"/>, first mounting
    /// fusectl where it is missing (a container's fresh /sys has no such submount): 0 or the errno
    /// of the step that failed. Touches nothing of the FUSE mount itself, so it never hangs on it.
    /// </summary>
    public static int Abort(INodeKernel kernel, string device)
    {
        if (AbortFile(device) is not { } file)
        {
            return Errno.EINVAL;
        }
        if (!MountTable.Read(kernel).At(MountPoint).Any(m => m.FsType == FsType))
        {
            // EBUSY: mounted meanwhile by someone else (fusectl is one superblock per machine).
            if (kernel.Mount(FsType, MountPoint, FsType, 0, null) is var mounted and not 0 and not Errno.EBUSY)
            {
                return mounted;
            }
        }
        return kernel.WriteControlFile(file, "1");
    }
}
