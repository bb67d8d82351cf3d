using System.Runtime.InteropServices;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// The node's seam at the kernel: the system calls the node domain makes (mount(2), umount2(2),
/// the openat(2)/mkdirat(2)/unlinkat(2)/statx(2)/close(2) walk, statvfs(3)), the proc files it
/// reads (/proc/self/mountinfo, /proc/self/fdinfo/N) and the one control file it writes (fusectl's abort), each as the call itself answers. Nothing here
/// decides anything: what an errno means, retries and messages stay in the domain
/// (<see cref="NodeVolumes"/>, <see cref="DataRoot"/>, <see cref="SafeDirectory"/>), so the domain
/// can run on a model of the kernel in unit tests. <see cref="LinuxKernel"/> is the real one.
/// <para>
/// Calls answer 0 or the errno (as pthread functions do) instead of -1 and a thread-local errno:
/// one value carries the whole outcome, whichever thread runs the call (<see cref="Deadline"/>).
/// Every call may block on a dead FUSE mount: callers run them through <see cref="Deadline"/>.
/// </para>
/// </summary>
public interface INodeKernel
{
    /// <summary>mount(2): 0 or the errno. A null <paramref name="data"/> passes NULL.</summary>
    int Mount(string? source, string target, string? fsType, ulong flags, string? data);

    /// <summary>umount2(2): 0 or the errno.</summary>
    int Umount2(string target, int flags);

    /// <summary>openat(2): 0 with the new descriptor in <paramref name="fd"/>, or the errno (and -1).</summary>
    int OpenAt(int dirFd, string path, int flags, int mode, out int fd);

    /// <summary>mkdirat(2): 0 or the errno.</summary>
    int MkdirAt(int dirFd, string path, int mode);

    /// <summary>unlinkat(2): 0 or the errno.</summary>
    int UnlinkAt(int dirFd, string path, int flags);

    /// <summary>statx(2): 0 or the errno.</summary>
    int Statx(int dirFd, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary>close(2): 0 or the errno.</summary>
    int Close(int fd);

    /// <summary>statvfs(3): 0 or the errno.</summary>
    int Statvfs(string path, out StatVfs buffer);

    /// <summary>
    /// open(2) O_WRONLY, one write(2) of <paramref name="text"/>, close(2) of a kernel control file
    /// (fusectl's /sys/fs/fuse/connections/N/abort): 0 or the first errno.
    /// </summary>
    int WriteControlFile(string path, string text);

    /// <summary>The text of /proc/self/mountinfo (reading it never calls into a FUSE daemon).</summary>
    string ReadMountInfo();

    /// <summary>The text of /proc/self/fdinfo/<paramref name="fd"/>.</summary>
    string ReadFdInfo(int fd);

    /// <summary>
    /// mkdir -p of a path from the node's configuration (--data-root, --kubelet-dir), trusted as
    /// given: <see cref="Directory.CreateDirectory(string)"/>, which throws an <see cref="IOException"/>
    /// (or <see cref="UnauthorizedAccessException"/>) when it cannot.
    /// </summary>
    void CreateDirectories(string path);
}

/// <summary>glibc's struct statvfs on 64-bit Linux (x86_64 and aarch64 share it).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct StatVfs
{
    public ulong Bsize;
    public ulong Frsize;
    public ulong Blocks;
    public ulong Bfree;
    public ulong Bavail;
    public ulong Files;
    public ulong Ffree;
    public ulong Favail;
    public ulong Fsid;
    public ulong Flag;
    public ulong Namemax;
    public int Spare0,
        Spare1,
        Spare2,
        Spare3,
        Spare4,
        Spare5;
}

/// <summary>struct statx (linux/stat.h), 256 bytes; only the leading fields are named.</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
public struct StatxBuffer
{
    [FieldOffset(0)]
    public uint Mask;

    [FieldOffset(28)]
    public ushort Mode;
}
