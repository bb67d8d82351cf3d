using System.Runtime.InteropServices;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// A directory opened with O_PATH by walking from a trusted root one component at a time with
/// O_NOFOLLOW|O_DIRECTORY: a symlink anywhere on the way (planted in the parent dataset, a volume
/// directory replaced by one, a pod directory under kubelet's made into one) fails the walk
/// instead of leading outside. Mounts and removals are then made through <see cref="ProcPath"/>
/// (/proc/self/fd/N), which names exactly the directory checked, so nothing can be swapped
/// between the check and the call. Every call goes through the <see cref="INodeKernel"/> it was
/// opened with. Blocking: call through <see cref="Deadline"/>.
/// <para>
/// The fd is a <see cref="SafeHandle"/>: a call running on a <see cref="Deadline"/> thread takes
/// a <see cref="Lease"/>, so the fd stays open until that thread is done even when its caller gave
/// up and disposed this object. Otherwise the number could be reused by another open and an
/// abandoned thread's bind of /proc/self/fd/N would mount the wrong directory.
/// </para>
/// </summary>
public sealed class SafeDirectory : IDisposable
{
    private readonly INodeKernel _kernel;
    private readonly FdHandle _handle;

    private SafeDirectory(INodeKernel kernel, int fd, string path)
    {
        _kernel = kernel;
        _handle = new FdHandle(kernel, fd);
        Path = path;
    }

    /// <summary>The path it was opened as, for messages.</summary>
    public string Path { get; }

    /// <summary>
    /// A path that resolves to exactly this open directory, for mount(2) and statvfs(3). Valid
    /// while the caller owns this object or holds a <see cref="Lease"/>.
    /// </summary>
    public string ProcPath => $"/proc/self/fd/{Fd}";

    private int Fd => (int)_handle.DangerousGetHandle();

    /// <summary>
    /// The id of the mount the open directory is on (the mnt_id line of /proc/self/fdinfo/N, the
    /// first field of mountinfo): tells whether it is the dataset's own mount or the directory a
    /// mount covered after it was opened.
    /// </summary>
    public int? MountId
    {
        get
        {
            using var lease = Lease();
            return _kernel
                .ReadFdInfo(Fd)
                .Split('\n')
                .Where(l => l.StartsWith("mnt_id:", StringComparison.Ordinal))
                .Select(l =>
                    int.TryParse(
                        l["mnt_id:".Length..].Trim(),
                        System.Globalization.CultureInfo.InvariantCulture,
                        out var id
                    )
                        ? id
                        : (int?)null
                )
                .FirstOrDefault();
        }
    }

    /// <summary>
    /// Keeps the fd open until the returned object is disposed, even if this object is disposed
    /// first. Take it on the calling thread, before handing <see cref="ProcPath"/> to another one.
    /// </summary>
    public IDisposable Lease()
    {
        var added = false;
        _handle.DangerousAddRef(ref added);
        return new Releaser(_handle);
    }

    /// <summary>Leases of several directories, released together.</summary>
    public static IDisposable LeaseAll(params SafeDirectory[] directories)
    {
        var leases = new List<IDisposable>(directories.Length);
        try
        {
            foreach (var directory in directories)
            {
                leases.Add(directory.Lease());
            }
        }
        catch
        {
            leases.ForEach(l => l.Dispose());
            throw;
        }
        return new Composite(leases);
    }

    private sealed class Composite(List<IDisposable> leases) : IDisposable
    {
        public void Dispose() => leases.ForEach(l => l.Dispose());
    }

    /// <summary>A child of this directory by name, resolved from the fd (the walk up to here is not repeated).</summary>
    public string ChildPath(string name)
    {
        CheckComponent(name, Path);
        return $"{ProcPath}/{name}";
    }

    /// <summary>rmdir of a child, relative to the fd (unlinkat AT_REMOVEDIR): 0 or the errno.</summary>
    public int RemoveChildDirectory(string name)
    {
        CheckComponent(name, Path);
        using var lease = Lease();
        return _kernel.UnlinkAt(Fd, name, Native.AtRemovedir);
    }

    /// <summary>Walks <paramref name="components"/> below <paramref name="root"/>; any symlink or non-directory on the way is refused.</summary>
    public static SafeDirectory Open(INodeKernel kernel, string root, IReadOnlyList<string> components) =>
        Walk(kernel, OpenRoot(kernel, root), root.TrimEnd('/'), components, createMode: null);

    /// <summary>
    /// As <see cref="Open"/>, making missing components with mkdirat(2) in the directory just
    /// opened (never through a path that could be swapped): mkdir -p that cannot leave <paramref name="root"/>.
    /// </summary>
    public static SafeDirectory OpenOrCreate(
        INodeKernel kernel,
        string root,
        IReadOnlyList<string> components,
        int mode
    ) => Walk(kernel, OpenRoot(kernel, root), root.TrimEnd('/'), components, mode);

    /// <summary>Walks on from this directory (which stays open): <see cref="Open"/> or, with a mode, <see cref="OpenOrCreate"/>.</summary>
    public SafeDirectory Descend(IReadOnlyList<string> components, int? createMode = null)
    {
        using var lease = Lease();
        if (
            _kernel.OpenAt(Fd, ".", Native.OPath | Native.ODirectory | Native.OCloexec, 0, out var fd)
            is var errno
                and not 0
        )
        {
            throw new SyscallException("open", Path, errno);
        }
        return Walk(_kernel, fd, Path, components, createMode);
    }

    private static int OpenRoot(INodeKernel kernel, string root)
    {
        var errno = kernel.OpenAt(
            Native.AtFdcwd,
            root,
            Native.OPath | Native.ODirectory | Native.OCloexec,
            0,
            out var fd
        );
        return errno == 0 ? fd : throw new SyscallException("open", root, errno);
    }

    /// <summary>Walks from <paramref name="fd"/> (owned: closed on the way or kept in the result).</summary>
    private static SafeDirectory Walk(
        INodeKernel kernel,
        int fd,
        string path,
        IReadOnlyList<string> components,
        int? createMode
    )
    {
        var root = path;
        foreach (var component in components)
        {
            try
            {
                CheckComponent(component, root);
            }
            catch
            {
                kernel.Close(fd);
                throw;
            }
            path += "/" + component;
            var errno = OpenChild(kernel, fd, component, out var next);
            if (errno == Errno.ENOENT && createMode is { } mode)
            {
                // EEXIST: made by someone else in between; the open below checks what it is.
                if (kernel.MkdirAt(fd, component, mode) is var mkdirErrno and not (0 or Errno.EEXIST))
                {
                    kernel.Close(fd);
                    throw new SyscallException("mkdir", path, mkdirErrno);
                }
                errno = OpenChild(kernel, fd, component, out next);
            }
            if (errno != 0)
            {
                var kind = errno is Errno.ENOTDIR or Errno.ELOOP ? KindOf(kernel, fd, component) : null;
                kernel.Close(fd);
                throw kind is null ? new SyscallException("open", path, errno) : new NotADirectoryException(path, kind);
            }
            kernel.Close(fd);
            fd = next;
        }
        return new SafeDirectory(kernel, fd, path);
    }

    private static int OpenChild(INodeKernel kernel, int dirFd, string name, out int fd) =>
        kernel.OpenAt(dirFd, name, Native.OPath | Native.ODirectory | Native.ONofollow | Native.OCloexec, 0, out fd);

    /// <summary>What is at <paramref name="name"/> instead of a directory, for the message.</summary>
    private static string KindOf(INodeKernel kernel, int dirFd, string name)
    {
        if (kernel.Statx(dirFd, name, Native.AtSymlinkNofollow, Native.StatxType, out var st) != 0)
        {
            return "not a directory";
        }
        return (st.Mode & Native.SIfmt) switch
        {
            Native.SIflnk => "a symbolic link",
            Native.SIfreg => "a regular file",
            Native.SIfdir => "a directory that changed while it was opened",
            _ => "not a directory",
        };
    }

    private static void CheckComponent(string component, string under)
    {
        if (
            component is "" or "." or ".."
            || component.Contains('/', StringComparison.Ordinal)
            || component.Contains('\0', StringComparison.Ordinal)
        )
        {
            throw new InvalidInputException($"path component '{Printable.Of(component)}' under {under} is not allowed");
        }
    }

    public void Dispose() => _handle.Dispose();

    private sealed class Releaser(SafeHandle handle) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Closes the fd when the last of the owner and the leases lets go.</summary>
    private sealed class FdHandle : SafeHandle
    {
        private readonly INodeKernel _kernel;

        public FdHandle(INodeKernel kernel, int fd)
            : base(-1, ownsHandle: true)
        {
            _kernel = kernel;
            SetHandle(fd);
        }

        public override bool IsInvalid => handle < 0;

        protected override bool ReleaseHandle() => _kernel.Close((int)handle) == 0;
    }
}

/// <summary>
/// Something other than a directory where a walk needed one: a symlink (refused, never followed)
/// or a file. FAILED_PRECONDITION: the request is well formed, the node's state is not what the
/// operation needs (gRPC status codes; CSI spec, "Error Scheme", leaves codes not listed per RPC to them).
/// </summary>
public sealed class NotADirectoryException(string path, string kind)
    : ZfsCsiException(
        ErrorKind.FailedPrecondition,
        $"{path} is {kind}, not a directory; refusing to follow or replace it"
    )
{
    public string FoundInstead { get; } = kind;
}
