using System.Runtime.InteropServices;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// The few libc calls the node needs (and the key store's directory fsync), as direct calls, for <see cref="LinuxKernel"/> (the domain
/// reaches them only through <see cref="INodeKernel"/>): mount(2)/umount2(2) cost ~0.02 ms where a
/// mount process costs ~3 ms (docs/zfs.md, "Mounts and the mount lock"), and openat(2) with O_NOFOLLOW is how a path is
/// walked without following symlinks. Flag values are per architecture where Linux differs.
/// Every call here may block on a dead FUSE mount: callers run them through <see cref="Deadline"/>.
/// </summary>
internal static partial class Native
{
    public const ulong MsRdonly = 0x1;
    public const ulong MsNosuid = 0x2;
    public const ulong MsNodev = 0x4;
    public const ulong MsNoexec = 0x8;
    public const ulong MsSynchronous = 0x10;
    public const ulong MsRemount = 0x20;
    public const ulong MsDirsync = 0x80;
    public const ulong MsNoatime = 0x400;
    public const ulong MsNodiratime = 0x800;
    public const ulong MsBind = 0x1000;
    public const ulong MsRelatime = 0x200000;
    public const ulong MsStrictatime = 0x1000000;

    public const int MntForce = 1;
    public const int MntDetach = 2;
    public const int UmountNofollow = 8;

    public const int AtFdcwd = -100;
    public const int ORdonly = 0;
    public const int OCloexec = 0x80000;
    public const int OPath = 0x200000;

    public static readonly int ONofollow = RuntimeInformation.ProcessArchitecture
        is Architecture.Arm64
            or Architecture.Arm
        ? 0x8000
        : 0x20000;
    public static readonly int ODirectory = RuntimeInformation.ProcessArchitecture
        is Architecture.Arm64
            or Architecture.Arm
        ? 0x4000
        : 0x10000;

    /// <summary>mount(2); a null <paramref name="data"/> passes NULL (a bind), a string its options (tmpfs for a fence).</summary>
    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string? source, string target, string? fsType, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int dirFd, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(int dirFd, string path, int mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(int dirFd, string path, int flags);

    /// <summary>
    /// statx(2): its struct has one layout on every architecture (unlike struct stat), and with
    /// AT_EMPTY_PATH it describes an O_PATH fd itself, so the type is read from what was opened.
    /// </summary>
    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirFd, string path, int flags, uint mask, out StatxBuffer buf);

    /// <summary>write(2) of a whole buffer; a kernel control file (fusectl's abort) takes it in one call.</summary>
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, ReadOnlySpan<byte> buffer, nuint count);

    public const int OWronly = 1;

    public const int AtRemovedir = 0x200;
    public const int AtSymlinkNofollow = 0x100;
    public const int AtEmptyPath = 0x1000;
    public const uint StatxType = 0x1;
    public const int SIfmt = 0xF000;
    public const int SIfdir = 0x4000;
    public const int SIflnk = 0xA000;
    public const int SIfreg = 0x8000;

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>fsync(2): used on a directory after a rename into it (the key store), which .NET cannot open.</summary>
    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statvfs(string path, out StatVfs buf);

    public static int LastErrno => Marshal.GetLastPInvokeError();
}
