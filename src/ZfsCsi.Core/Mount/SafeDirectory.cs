using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// A directory opened with O_PATH by walking from a trusted root one component at a time with
/// O_NOFOLLOW|O_DIRECTORY: a symlink anywhere on the way (planted in the parent dataset, or a
/// volume directory replaced by one) fails the walk instead of leading outside. The bind is then
/// made from <see cref="ProcPath"/> (/proc/self/fd/N), which names exactly the directory checked,
/// so nothing can be swapped between the check and the mount. Blocking: call through <see cref="Deadline"/>.
/// </summary>
public sealed class SafeDirectory : IDisposable
{
    private int _fd;

    private SafeDirectory(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>The path it was opened as, for messages.</summary>
    public string Path { get; }

    /// <summary>A path that resolves to exactly this open directory, for mount(2) and statvfs(3).</summary>
    public string ProcPath => $"/proc/self/fd/{_fd}";

    /// <summary>
    /// The id of the mount the open directory is on (the mnt_id line of /proc/self/fdinfo/N, the
    /// first field of mountinfo): tells whether it is the dataset's own mount or the directory a
    /// mount covered after it was opened.
    /// </summary>
    public int? MountId =>
        File.ReadLines($"/proc/self/fdinfo/{_fd}")
            .Where(l => l.StartsWith("mnt_id:", StringComparison.Ordinal))
            .Select(l => int.TryParse(l["mnt_id:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture, out var id) ? id : (int?)null)
            .FirstOrDefault();

    public static SafeDirectory Open(string root, IReadOnlyList<string> components)
    {
        var fd = Native.OpenAt(Native.AtFdcwd, root, Native.OPath | Native.ODirectory | Native.OCloexec, 0);
        if (fd < 0)
        {
            throw new SyscallException("open", root, Native.LastErrno);
        }
        var path = root.TrimEnd('/');
        foreach (var component in components)
        {
            if (component is "" or "." or ".." || component.Contains('/', StringComparison.Ordinal))
            {
                Native.Close(fd);
                throw new InvalidInputException($"path component '{Printable.Of(component)}' under {root} is not allowed");
            }
            path += "/" + component;
            var next = Native.OpenAt(fd, component, Native.OPath | Native.ODirectory | Native.ONofollow | Native.OCloexec, 0);
            var errno = Native.LastErrno;
            Native.Close(fd);
            if (next < 0)
            {
                throw errno is Errno.ENOTDIR or Errno.ELOOP
                    ? new FailedPreconditionException($"{path} is a symbolic link or not a directory; refusing to follow it (a volume must be a real directory under the data root)")
                    : new SyscallException("open", path, errno);
            }
            fd = next;
        }
        return new SafeDirectory(fd, path);
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Native.Close(fd);
        }
    }
}
