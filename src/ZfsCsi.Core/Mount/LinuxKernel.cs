namespace ZfsCsi.Core.Mount;

/// <summary>
/// The real kernel behind <see cref="INodeKernel"/>: each member is the libc call of its name
/// (<see cref="Native"/>) with its errno read at once, on the thread that made the call.
/// </summary>
public sealed class LinuxKernel : INodeKernel
{
    public int Mount(string? source, string target, string? fsType, ulong flags, string? data) =>
        Native.Mount(source, target, fsType, flags, data) == 0 ? 0 : Native.LastErrno;

    public int Umount2(string target, int flags) => Native.Umount2(target, flags) == 0 ? 0 : Native.LastErrno;

    public int OpenAt(int dirFd, string path, int flags, int mode, out int fd)
    {
        fd = Native.OpenAt(dirFd, path, flags, mode);
        return fd >= 0 ? 0 : Native.LastErrno;
    }

    public int MkdirAt(int dirFd, string path, int mode) =>
        Native.MkdirAt(dirFd, path, mode) == 0 ? 0 : Native.LastErrno;

    public int UnlinkAt(int dirFd, string path, int flags) =>
        Native.UnlinkAt(dirFd, path, flags) == 0 ? 0 : Native.LastErrno;

    public int Statx(int dirFd, string path, int flags, uint mask, out StatxBuffer buffer) =>
        Native.Statx(dirFd, path, flags, mask, out buffer) == 0 ? 0 : Native.LastErrno;

    public int Close(int fd) => Native.Close(fd) == 0 ? 0 : Native.LastErrno;

    public int Statvfs(string path, out StatVfs buffer) => Native.Statvfs(path, out buffer) == 0 ? 0 : Native.LastErrno;

    public int WriteControlFile(string path, string text)
    {
        var fd = Native.OpenAt(Native.AtFdcwd, path, Native.OWronly | Native.OCloexec, 0);
        if (fd < 0)
        {
            return Native.LastErrno;
        }
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        var written = Native.Write(fd, bytes, (nuint)bytes.Length);
        var errno =
            written == bytes.Length ? 0
            : written < 0 ? Native.LastErrno
            : Errno.EIO;
        var closed = Native.Close(fd) == 0 ? 0 : Native.LastErrno;
        return errno != 0 ? errno : closed;
    }

    public string ReadMountInfo() => File.ReadAllText(MountInfoParser.SelfPath);

    public string ReadFdInfo(int fd) => File.ReadAllText($"/proc/self/fdinfo/{fd}");

    public void CreateDirectories(string path) => Directory.CreateDirectory(path);
}
