using System.Globalization;
using System.Text;
using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Fakes;

/// <summary>
/// A model of the Linux kernel behind <see cref="INodeKernel"/>, for the node domain's unit tests:
/// filesystems with directory trees, a mount table of mounts over them (new mounts, binds, bind
/// remounts, stacking, lazy detaches), descriptors opened with O_PATH, and /proc/self/mountinfo
/// printed from it in the kernel's format, which the tests read with the real
/// <see cref="MountInfoParser"/>. It follows the kernel where the node depends on it
/// (fs/namespace.c, fs/namei.c): a bind copies its source's per-mount flags and ignores the others;
/// a bind remount sets exactly the flags given, keeping the atime mode when it names none; a new
/// mount defaults to relatime; a mount on a mount point stacks on the top one; a path crosses into
/// the top mount of every mount point it walks through, but /proc/self/fd/N names the opened
/// directory itself; umount2 needs the root of an attached mount (EINVAL), refuses one in use or with
/// mounts on it (EBUSY) unless MNT_DETACH, which takes the mounts on it too; rmdir of a mount point is
/// EBUSY.
/// <para>
/// Faults, as the node meets them: a filesystem whose FUSE daemon is gone answers every call into it
/// with ENOTCONN (<see cref="Kill"/>); one whose link is down blocks every call into it until
/// released (<see cref="Hang"/>); any call on a path can answer an errno (<see cref="Fail"/>); a mount
/// can be in use by a process (<see cref="Use"/>). Over SSHFS statvfs is answered per path by the
/// storage host (<see cref="FakeFilesystem.AnswerStatvfs"/>). Anything the node never does (a
/// descriptor opened without O_PATH, unlink of a file, a superblock remount) is refused loudly
/// (<see cref="NotSupportedException"/>), so no test passes on a call the model does not know.
/// </para>
/// Paths in <see cref="Fail"/>, <see cref="Calls"/> and the world-side helpers are the real paths
/// (as mountinfo shows them): /proc/self/fd/N in a call's argument is replaced by the path of the
/// directory N was opened as.
/// </summary>
public sealed class FakeKernel : INodeKernel, IDisposable
{
    private const int EBADF = 9;
    private const int EROFS = 30;
    private const string ProcFd = "/proc/self/fd/";

    private readonly object _sync;
    private readonly List<FakeMount> _mounts = [];
    private readonly Dictionary<int, Location> _fds = [];
    private readonly List<Injection> _injections = [];
    private readonly List<(string Call, string Path, Action Action)> _after = [];
    private readonly List<KernelCall> _calls = [];
    private readonly FakeMount _root;
    private int _nextMountId = 21;
    private int _nextDevice = 40;
    private bool _disposed;

    public FakeKernel()
    {
        _sync = Sync;
        var rootFs = new FakeFilesystem(this, "ext4", "/dev/vda", "254:0", "rw");
        _root = new FakeMount(_nextMountId++, null, null, rootFs.Root, rootFs, MntFlags.RelAtime);
        _mounts.Add(_root);
    }

    /// <summary>The one lock of the model and its filesystems: calls come from several threads (<see cref="Deadline"/>).</summary>
    internal object Sync { get; } = new();

    /// <summary>Every call made through <see cref="INodeKernel"/> so far, in order.</summary>
    public IReadOnlyList<KernelCall> Calls
    {
        get
        {
            lock (_sync)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>The mount(2) calls so far.</summary>
    public IReadOnlyList<KernelCall> MountCalls => [.. Calls.Where(c => c.Call == "mount")];

    /// <summary>Descriptors open now (each SafeDirectory holds one until it and its leases let go).</summary>
    public int OpenDescriptors
    {
        get
        {
            lock (_sync)
            {
                return _fds.Count;
            }
        }
    }

    // ---- the world: what the tests do to the node and the storage host, outside the seam ----

    /// <summary>mkdir -p, as root on the node (through the mounts the path crosses).</summary>
    public void MakeDirectories(string path)
    {
        lock (_sync)
        {
            var errno = MakeDirectoriesLocked(path);
            if (errno != 0)
            {
                throw new InvalidOperationException($"FakeKernel: mkdir -p {path}: {Errno.Describe(errno)}");
            }
        }
    }

    /// <summary>A regular file at <paramref name="path"/> (its directory must exist).</summary>
    public void WriteFile(string path) => AddNode(path, NodeKind.File, null);

    /// <summary>A symbolic link at <paramref name="path"/> pointing at <paramref name="target"/>.</summary>
    public void Symlink(string path, string target) => AddNode(path, NodeKind.Symlink, target);

    /// <summary>Whether something is at <paramref name="path"/> (a symlink there is not followed).</summary>
    public bool Exists(string path)
    {
        lock (_sync)
        {
            return Resolve(Native.AtFdcwd, path, followLast: false).Errno == 0;
        }
    }

    /// <summary>Whether <paramref name="path"/> is a directory (a symlink there is not followed).</summary>
    public bool IsDirectory(string path)
    {
        lock (_sync)
        {
            var r = Resolve(Native.AtFdcwd, path, followLast: false);
            return r.Errno == 0 && r.Loc.Node.Kind == NodeKind.Directory;
        }
    }

    /// <summary>The names in the directory at <paramref name="path"/>.</summary>
    public IReadOnlyList<string> List(string path)
    {
        lock (_sync)
        {
            var r = Resolve(Native.AtFdcwd, path, followLast: true);
            return r.Errno == 0
                ? [.. r.Loc.Node.Children.Keys.Order(StringComparer.Ordinal)]
                : throw new InvalidOperationException($"FakeKernel: ls {path}: {Errno.Describe(r.Errno)}");
        }
    }

    /// <summary>
    /// mount -t <paramref name="fsType"/> <paramref name="source"/> <paramref name="target"/> -o
    /// <paramref name="options"/> (per-mount options as mountinfo prints them): a new filesystem,
    /// stacked on whatever is mounted there.
    /// </summary>
    public FakeFilesystem Mount(
        string target,
        string fsType,
        string source,
        string options = "rw,relatime",
        string superOptions = "rw"
    )
    {
        lock (_sync)
        {
            var at = MountPointOrThrow(target);
            var fs = new FakeFilesystem(this, fsType, source, NextDevice(), superOptions);
            _mounts.Add(new FakeMount(_nextMountId++, at.Mount, at.Node, fs.Root, fs, ParseOptions(options)));
            return fs;
        }
    }

    /// <summary>mount --bind <paramref name="source"/> <paramref name="target"/> as root on the node (flags copied from the source's mount).</summary>
    public void Bind(string source, string target)
    {
        lock (_sync)
        {
            var from = Resolve(Native.AtFdcwd, source, followLast: true);
            if (from.Errno != 0)
            {
                throw new InvalidOperationException($"FakeKernel: bind {source}: {Errno.Describe(from.Errno)}");
            }
            var at = MountPointOrThrow(target);
            _mounts.Add(
                new FakeMount(_nextMountId++, at.Mount, at.Node, from.Loc.Node, from.Loc.Mount.Fs, from.Loc.Mount.Flags)
            );
        }
    }

    /// <summary>umount -l: detaches the top mount at <paramref name="path"/> and everything mounted on it.</summary>
    public void Detach(string path)
    {
        lock (_sync)
        {
            var top = AttachedAt(path).LastOrDefault()
                ?? throw new InvalidOperationException($"FakeKernel: umount -l {path}: not mounted");
            DetachTree(top);
        }
    }

    /// <summary>The FUSE daemon of <paramref name="fs"/> is gone (or its link failed): every call into it answers <paramref name="errno"/>.</summary>
    public void Kill(FakeFilesystem fs, int errno = Errno.ENOTCONN)
    {
        lock (_sync)
        {
            fs.DeadErrno = errno;
        }
    }

    /// <summary>
    /// The link of <paramref name="fs"/> is down and nothing answers: every call into it blocks until
    /// the returned object (or this kernel) is disposed, then goes on as if the link came back.
    /// </summary>
    public IDisposable Hang(FakeFilesystem fs)
    {
        var gate = new ManualResetEventSlim(false);
        lock (_sync)
        {
            fs.Gate = gate;
        }
        return new Callback(() =>
        {
            lock (_sync)
            {
                if (fs.Gate == gate)
                {
                    fs.Gate = null;
                }
            }
            gate.Set();
        });
    }

    /// <summary>
    /// A process uses the top mount at <paramref name="path"/> (its working directory, an open file):
    /// umount2 without MNT_DETACH answers EBUSY until the returned object is disposed.
    /// </summary>
    public IDisposable Use(string path)
    {
        FakeMount mount;
        lock (_sync)
        {
            mount = AttachedAt(path).LastOrDefault()
                ?? throw new InvalidOperationException($"FakeKernel: {path} is not mounted");
            mount.Users++;
        }
        return new Callback(() =>
        {
            lock (_sync)
            {
                mount.Users--;
            }
        });
    }

    /// <summary>
    /// The next <paramref name="times"/> calls of <paramref name="call"/> ("mount", "umount2",
    /// "openat", "mkdirat", "unlinkat", "statvfs", "statx") on <paramref name="path"/>, with all of
    /// <paramref name="withFlags"/> set, answer <paramref name="errno"/> and do nothing.
    /// </summary>
    public void Fail(string call, string path, int errno, int times = 1, ulong withFlags = 0)
    {
        lock (_sync)
        {
            _injections.Add(new Injection(call, path, errno, withFlags) { Left = times });
        }
    }

    /// <summary>Runs <paramref name="action"/> (a change of the world) once, right after the next <paramref name="call"/> on <paramref name="path"/> returns.</summary>
    public void After(string call, string path, Action action)
    {
        lock (_sync)
        {
            _after.Add((call, path, action));
        }
    }

    /// <summary>Releases every hung call (their threads finish), so no test leaves threads blocked in the model.</summary>
    public void Dispose()
    {
        List<ManualResetEventSlim> gates;
        lock (_sync)
        {
            _disposed = true;
            gates = [.. _mounts.Select(m => m.Fs).Distinct().Select(f => f.Gate).OfType<ManualResetEventSlim>()];
            foreach (var fs in _mounts.Select(m => m.Fs))
            {
                fs.Gate = null;
            }
        }
        gates.ForEach(g => g.Set());
    }

    // ---- the seam ----

    public int Mount(string? source, string target, string? fsType, ulong flags, string? data) =>
        Syscall("mount", target, flags, () =>
        {
            if ((flags & Native.MsRemount) != 0)
            {
                if ((flags & Native.MsBind) == 0)
                {
                    throw new NotSupportedException("FakeKernel: a superblock remount (MS_REMOUNT without MS_BIND)");
                }
                var at = Resolve(Native.AtFdcwd, target, followLast: true);
                if (at.Errno != 0)
                {
                    return at.Errno;
                }
                // do_reconfigure_mnt: only the root of a mount in this namespace.
                if (at.Loc.Node != at.Loc.Mount.Root || !at.Loc.Mount.Attached)
                {
                    return Errno.EINVAL;
                }
                at.Loc.Mount.Flags = PerMountFlags(flags, at.Loc.Mount.Flags, remount: true);
                return 0;
            }
            var to = Resolve(Native.AtFdcwd, target, followLast: true);
            if (to.Errno != 0)
            {
                return to.Errno;
            }
            if (to.Loc.Node.Kind != NodeKind.Directory)
            {
                return Errno.ENOTDIR;
            }
            if (!to.Loc.Mount.Attached)
            {
                return Errno.EINVAL;
            }
            // lock_mount: a mount on a mount point goes on top of what is mounted there.
            var top = Cross(to.Loc);
            if ((flags & Native.MsBind) != 0)
            {
                var from = Resolve(Native.AtFdcwd, source ?? "", followLast: true);
                if (from.Errno != 0)
                {
                    return from.Errno;
                }
                if (!from.Loc.Mount.Attached)
                {
                    return Errno.EINVAL;
                }
                // do_loopback → clone_mnt: the source's per-mount flags; the ones passed are ignored.
                _mounts.Add(
                    new FakeMount(
                        _nextMountId++,
                        top.Mount,
                        top.Node,
                        from.Loc.Node,
                        from.Loc.Mount.Fs,
                        from.Loc.Mount.Flags
                    )
                );
                return 0;
            }
            var ro = (flags & Native.MsRdonly) != 0;
            var fs = new FakeFilesystem(
                this,
                fsType ?? throw new NotSupportedException("FakeKernel: a new mount without a type"),
                source ?? "none",
                NextDevice(),
                (ro ? "ro" : "rw") + (string.IsNullOrEmpty(data) ? "" : "," + data)
            );
            _mounts.Add(
                new FakeMount(
                    _nextMountId++,
                    top.Mount,
                    top.Node,
                    fs.Root,
                    fs,
                    PerMountFlags(flags, MntFlags.None, remount: false)
                )
            );
            return 0;
        });

    public int Umount2(string target, int flags) => Syscall("umount2", target, (ulong)flags, () =>
        {
            var at = Resolve(Native.AtFdcwd, target, followLast: (flags & Native.UmountNofollow) == 0);
            if (at.Errno != 0)
            {
                return at.Errno;
            }
            var mount = at.Loc.Mount;
            if (at.Loc.Node != mount.Root || !mount.Attached || mount.Parent is null)
            {
                return Errno.EINVAL;
            }
            if ((flags & Native.MntDetach) != 0)
            {
                DetachTree(mount);
                return 0;
            }
            // do_umount: busy while a process or a descriptor holds it, or something is mounted on it.
            if (
                mount.Users > 0
                || _fds.Values.Any(l => l.Mount == mount)
                || _mounts.Any(m => m.Attached && m.Parent == mount)
            )
            {
                return Errno.EBUSY;
            }
            mount.Attached = false;
            return 0;
        });

    public int OpenAt(int dirFd, string path, int flags, int mode, out int fd)
    {
        var opened = -1;
        var errno = Syscall("openat", Expand(dirFd, path), (ulong)flags, () =>
        {
            if ((flags & Native.OPath) == 0)
            {
                throw new NotSupportedException($"FakeKernel: openat {path} without O_PATH");
            }
            var at = Resolve(dirFd, path, followLast: (flags & Native.ONofollow) == 0);
            if (at.Errno != 0)
            {
                return at.Errno;
            }
            var kind = at.Loc.Node.Kind;
            if ((flags & Native.ODirectory) != 0 && kind != NodeKind.Directory)
            {
                // O_PATH|O_NOFOLLOW opens a symlink itself; O_DIRECTORY then refuses it.
                return Errno.ENOTDIR;
            }
            opened = Enumerable.Range(3, _fds.Count + 1).First(n => !_fds.ContainsKey(n));
            _fds[opened] = at.Loc;
            return 0;
        });
        fd = errno == 0 ? opened : -1;
        return errno;
    }

    public int MkdirAt(int dirFd, string path, int mode) => Syscall("mkdirat", Expand(dirFd, path), (ulong)mode, () =>
        {
            var (errno, parent, name) = ResolveParent(dirFd, path);
            if (errno != 0)
            {
                return errno;
            }
            if (parent.Node.Children.ContainsKey(name))
            {
                return Errno.EEXIST;
            }
            if ((parent.Mount.Flags & MntFlags.ReadOnly) != 0 || parent.Node.Fs.ReadOnly)
            {
                return EROFS;
            }
            parent.Node.Add(name, NodeKind.Directory, null);
            return 0;
        });

    public int UnlinkAt(int dirFd, string path, int flags) =>
        Syscall("unlinkat", Expand(dirFd, path), (ulong)flags, () =>
        {
            if ((flags & Native.AtRemovedir) == 0)
            {
                throw new NotSupportedException($"FakeKernel: unlink of {path} (the node only removes directories)");
            }
            var (errno, parent, name) = ResolveParent(dirFd, path);
            if (errno != 0)
            {
                return errno;
            }
            if (!parent.Node.Children.TryGetValue(name, out var child))
            {
                return Errno.ENOENT;
            }
            if (child.Kind != NodeKind.Directory)
            {
                return Errno.ENOTDIR;
            }
            if ((parent.Mount.Flags & MntFlags.ReadOnly) != 0)
            {
                return EROFS;
            }
            // d_mountpoint: a directory something is mounted on cannot be removed.
            if (_mounts.Any(m => m.Attached && m.Mountpoint == child))
            {
                return Errno.EBUSY;
            }
            if (child.Children.Count > 0)
            {
                return Errno.ENOTEMPTY;
            }
            parent.Node.Children.Remove(name);
            return 0;
        });

    public int Statx(int dirFd, string path, int flags, uint mask, out StatxBuffer buffer)
    {
        var result = default(StatxBuffer);
        var errno = Syscall("statx", Expand(dirFd, path), (ulong)flags, () =>
        {
            var at = Resolve(dirFd, path, followLast: (flags & Native.AtSymlinkNofollow) == 0);
            if (at.Errno != 0)
            {
                return at.Errno;
            }
            result.Mask = Native.StatxType;
            result.Mode = (ushort)(
                at.Loc.Node.Kind switch
                {
                    NodeKind.Directory => Native.SIfdir | 0b111_101_101,
                    NodeKind.Symlink => Native.SIflnk | 0b111_111_111,
                    _ => Native.SIfreg | 0b110_100_100,
                }
            );
            return 0;
        });
        buffer = result;
        return errno;
    }

    public int Close(int fd)
    {
        lock (_sync)
        {
            _calls.Add(new KernelCall("close", fd.ToString(CultureInfo.InvariantCulture), 0));
            return _fds.Remove(fd) ? 0 : EBADF;
        }
    }

    public int Statvfs(string path, out StatVfs buffer)
    {
        var result = default(StatVfs);
        var errno = Syscall("statvfs", Expand(Native.AtFdcwd, path), 0, () =>
        {
            var at = Resolve(Native.AtFdcwd, path, followLast: true);
            if (at.Errno != 0)
            {
                return at.Errno;
            }
            var fs = at.Loc.Node.Fs;
            if (Enter(fs) is var dead and not 0)
            {
                return dead;
            }
            result = fs.StatvfsOf(at.Loc.Node);
            return 0;
        });
        buffer = result;
        return errno;
    }

    public string ReadMountInfo()
    {
        lock (_sync)
        {
            _calls.Add(new KernelCall("mountinfo", MountInfoParser.SelfPath, 0));
            var text = new StringBuilder();
            foreach (var m in _mounts.Where(m => m.Attached))
            {
                text.Append(
                    CultureInfo.InvariantCulture,
                    $"{m.Id} {m.Parent?.Id ?? 1} {m.Fs.Device} {Escape(m.Fs.PathOf(m.Root))} {Escape(PathOf(new Location(m, m.Root)))} "
                );
                // mnt_is_readonly: a mount of a read-only superblock shows "ro" whatever its own flag says.
                var flags = m.Fs.ReadOnly ? m.Flags | MntFlags.ReadOnly : m.Flags;
                text.Append(
                    CultureInfo.InvariantCulture,
                    $"{FormatOptions(flags)} - {m.Fs.FsType} {Escape(m.Fs.Source)} {m.Fs.SuperOptions}\n"
                );
            }
            return text.ToString();
        }
    }

    /// <summary>
    /// fusectl's abort (the only control file the node writes): with fusectl mounted at
    /// <see cref="FuseControl.MountPoint"/>, "1" to the abort file of a FUSE filesystem's device
    /// ends its connection. A call waiting on it goes on and, like every later one, answers
    /// ENOTCONN (the kernel answers the waiting ones ECONNABORTED; the node treats both as dead).
    /// </summary>
    public int WriteControlFile(string path, string text) => Syscall("write", path, 0, () =>
        {
            if (!AttachedAt(FuseControl.MountPoint).Any(m => m.Fs.FsType == FuseControl.FsType))
            {
                return Errno.ENOENT;
            }
            var fs = _mounts
                .Select(m => m.Fs)
                .FirstOrDefault(f =>
                    f.FsType.StartsWith("fuse", StringComparison.Ordinal) && FuseControl.AbortFile(f.Device) == path
                );
            if (fs is null)
            {
                return Errno.ENOENT;
            }
            if (text != "1")
            {
                return Errno.EINVAL;
            }
            fs.DeadErrno = Errno.ENOTCONN;
            if (fs.Gate is { } gate)
            {
                fs.Gate = null;
                gate.Set();
            }
            return 0;
        });

    public string ReadFdInfo(int fd)
    {
        lock (_sync)
        {
            _calls.Add(new KernelCall("fdinfo", fd.ToString(CultureInfo.InvariantCulture), 0));
            return _fds.TryGetValue(fd, out var at)
                ? $"pos:\t0\nflags:\t012100000\nmnt_id:\t{at.Mount.Id}\nino:\t{at.Node.Inode}\n"
                : throw new FileNotFoundException($"Could not find file '/proc/self/fdinfo/{fd}'");
        }
    }

    public void CreateDirectories(string path)
    {
        lock (_sync)
        {
            _calls.Add(new KernelCall("mkdir -p", path, 0));
        }
        int errno;
        while (true)
        {
            ManualResetEventSlim gate;
            lock (_sync)
            {
                try
                {
                    errno = MakeDirectoriesLocked(path);
                    break;
                }
                catch (HungException hung)
                {
                    gate = hung.Gate;
                }
            }
            gate.Wait();
        }
        if (errno != 0)
        {
            throw new IOException($"mkdir {path}: {Errno.Describe(errno)}");
        }
    }

    // ---- the model ----

    /// <summary>
    /// One call: recorded, answered by an injected errno when one matches, else by
    /// <paramref name="body"/> under the model's lock. A call that meets a hung filesystem waits
    /// outside the lock and starts again.
    /// </summary>
    private int Syscall(string call, string path, ulong flags, Func<int> body)
    {
        var real = Expand(Native.AtFdcwd, path);
        lock (_sync)
        {
            _calls.Add(new KernelCall(call, real, flags));
        }
        int errno;
        while (true)
        {
            ManualResetEventSlim gate;
            lock (_sync)
            {
                var injected = _injections.FirstOrDefault(i =>
                    i.Left > 0 && i.Call == call && i.Path == real && (flags & i.WithFlags) == i.WithFlags
                );
                if (injected is not null)
                {
                    injected.Left--;
                    return injected.Errno;
                }
                try
                {
                    errno = body();
                    break;
                }
                catch (HungException hung)
                {
                    gate = hung.Gate;
                }
            }
            gate.Wait();
        }
        List<Action> after;
        lock (_sync)
        {
            after = [.. _after.Where(a => a.Call == call && a.Path == real).Select(a => a.Action)];
            _after.RemoveAll(a => a.Call == call && a.Path == real);
        }
        after.ForEach(a => a());
        return errno;
    }

    /// <summary>0, or the errno of a dead filesystem; throws <see cref="HungException"/> for a hung one.</summary>
    private int Enter(FakeFilesystem fs)
    {
        if (fs.Gate is { } gate && !_disposed)
        {
            throw new HungException(gate);
        }
        return fs.DeadErrno;
    }

    private Resolution Resolve(int dirFd, string path, bool followLast, int depth = 0)
    {
        Location start;
        string rest;
        if (path.StartsWith(ProcFd, StringComparison.Ordinal))
        {
            var tail = path[ProcFd.Length..];
            var slash = tail.IndexOf('/', StringComparison.Ordinal);
            var number = slash < 0 ? tail : tail[..slash];
            // A magic link: exactly the opened directory, whatever was mounted on it since.
            if (
                !int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var fd)
                || !_fds.TryGetValue(fd, out start)
            )
            {
                return Resolution.Failed(EBADF);
            }
            rest = slash < 0 ? "" : tail[(slash + 1)..];
        }
        else if (path.StartsWith('/'))
        {
            start = Cross(new Location(_root, _root.Root));
            rest = path;
        }
        else if (dirFd == Native.AtFdcwd)
        {
            start = Cross(new Location(_root, _root.Root));
            rest = path;
        }
        else if (!_fds.TryGetValue(dirFd, out start))
        {
            return Resolution.Failed(EBADF);
        }
        else
        {
            rest = path;
        }
        return Walk(start, rest.Split('/', StringSplitOptions.RemoveEmptyEntries), followLast, depth);
    }

    private Resolution Walk(Location at, string[] components, bool followLast, int depth)
    {
        for (var i = 0; i < components.Length; i++)
        {
            var name = components[i];
            if (Enter(at.Node.Fs) is var dead and not 0)
            {
                return Resolution.Failed(dead);
            }
            if (at.Node.Kind != NodeKind.Directory)
            {
                return Resolution.Failed(Errno.ENOTDIR);
            }
            if (name == ".")
            {
                continue;
            }
            if (name == "..")
            {
                at = Up(at);
                continue;
            }
            if (!at.Node.Children.TryGetValue(name, out var child))
            {
                return Resolution.Failed(Errno.ENOENT);
            }
            var last = i == components.Length - 1;
            if (child.Kind == NodeKind.Symlink && (!last || followLast))
            {
                if (depth >= 40)
                {
                    return Resolution.Failed(Errno.ELOOP);
                }
                var target = child.LinkTarget!;
                var followed = target.StartsWith('/')
                    ? Resolve(Native.AtFdcwd, target, followLast: true, depth + 1)
                    : Walk(at, target.Split('/', StringSplitOptions.RemoveEmptyEntries), followLast: true, depth + 1);
                if (followed.Errno != 0)
                {
                    return followed;
                }
                at = followed.Loc;
                continue;
            }
            at = Cross(new Location(at.Mount, child));
        }
        return Resolution.Ok(at);
    }

    /// <summary>All but the last component resolved (followed), the last one as a name in it.</summary>
    private (int Errno, Location Parent, string Name) ResolveParent(int dirFd, string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        var (dir, name) = slash < 0 ? ("", trimmed) : (trimmed[..slash], trimmed[(slash + 1)..]);
        var parent =
            dir.Length == 0 && slash < 0
                ? Resolve(dirFd, ".", followLast: true)
                : Resolve(dirFd, dir.Length == 0 ? "/" : dir, followLast: true);
        if (parent.Errno != 0)
        {
            return (parent.Errno, default, name);
        }
        if (parent.Loc.Node.Kind != NodeKind.Directory)
        {
            return (Errno.ENOTDIR, default, name);
        }
        if (Enter(parent.Loc.Node.Fs) is var dead and not 0)
        {
            return (dead, default, name);
        }
        return (0, parent.Loc, name);
    }

    /// <summary>Into the top mount on <paramref name="at"/>, if anything is mounted there.</summary>
    private Location Cross(Location at)
    {
        while (_mounts.LastOrDefault(m => m.Attached && m.Parent == at.Mount && m.Mountpoint == at.Node) is { } top)
        {
            at = new Location(top, top.Root);
        }
        return at;
    }

    /// <summary>"..": out of the mounts whose root this is, then to the parent directory (never above "/").</summary>
    private static Location Up(Location at)
    {
        while (at.Node == at.Mount.Root && at.Mount.Parent is { } parent)
        {
            at = new Location(parent, at.Mount.Mountpoint!);
        }
        return at.Node != at.Mount.Root && at.Node.Parent is { } up ? new Location(at.Mount, up) : at;
    }

    /// <summary>d_path: where <paramref name="at"/> shows in the mount tree.</summary>
    private static string PathOf(Location at)
    {
        var parts = new List<string>();
        var (mount, node) = (at.Mount, at.Node);
        while (true)
        {
            while (node != mount.Root && node.Parent is not null)
            {
                parts.Add(node.Name);
                node = node.Parent;
            }
            if (mount.Parent is null || mount.Mountpoint is null)
            {
                break;
            }
            node = mount.Mountpoint;
            mount = mount.Parent;
        }
        parts.Reverse();
        return "/" + string.Join('/', parts);
    }

    /// <summary>A call's path as a real path: /proc/self/fd/N (or a path relative to <paramref name="dirFd"/>) spelled out.</summary>
    private string Expand(int dirFd, string path)
    {
        lock (_sync)
        {
            if (path.StartsWith(ProcFd, StringComparison.Ordinal))
            {
                var tail = path[ProcFd.Length..];
                var slash = tail.IndexOf('/', StringComparison.Ordinal);
                var number = slash < 0 ? tail : tail[..slash];
                if (
                    int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var fd)
                    && _fds.TryGetValue(fd, out var at)
                )
                {
                    return Join(PathOf(at), slash < 0 ? "" : tail[(slash + 1)..]);
                }
                return path;
            }
            if (path.StartsWith('/') || dirFd == Native.AtFdcwd)
            {
                return path;
            }
            return _fds.TryGetValue(dirFd, out var dir) ? Join(PathOf(dir), path) : path;
        }
    }

    private static string Join(string dir, string rest) =>
        rest is "" or "." ? dir : (dir == "/" ? "" : dir) + "/" + rest;

    private int MakeDirectoriesLocked(string path)
    {
        var at = Cross(new Location(_root, _root.Root));
        foreach (var name in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Enter(at.Node.Fs) is var dead and not 0)
            {
                return dead;
            }
            if (!at.Node.Children.ContainsKey(name))
            {
                if ((at.Mount.Flags & MntFlags.ReadOnly) != 0)
                {
                    return EROFS;
                }
                at.Node.Add(name, NodeKind.Directory, null);
            }
            var r = Walk(at, [name], followLast: true, 0);
            if (r.Errno != 0)
            {
                return r.Errno;
            }
            if (r.Loc.Node.Kind != NodeKind.Directory)
            {
                return Errno.ENOTDIR;
            }
            at = r.Loc;
        }
        return 0;
    }

    private void AddNode(string path, NodeKind kind, string? linkTarget)
    {
        lock (_sync)
        {
            var (errno, parent, name) = ResolveParent(Native.AtFdcwd, path);
            if (errno != 0 || parent.Node.Children.ContainsKey(name))
            {
                throw new InvalidOperationException(
                    $"FakeKernel: cannot make {path}: {(errno != 0 ? Errno.Describe(errno) : "it exists")}"
                );
            }
            parent.Node.Add(name, kind, linkTarget);
        }
    }

    private Location MountPointOrThrow(string target)
    {
        var at = Resolve(Native.AtFdcwd, target, followLast: true);
        if (at.Errno != 0 || at.Loc.Node.Kind != NodeKind.Directory)
        {
            throw new InvalidOperationException(
                $"FakeKernel: cannot mount on {target}: {(at.Errno != 0 ? Errno.Describe(at.Errno) : "not a directory")}"
            );
        }
        return Cross(at.Loc);
    }

    private List<FakeMount> AttachedAt(string path) =>
        [.. _mounts.Where(m => m.Attached && PathOf(new Location(m, m.Root)) == path)];

    /// <summary>umount_tree: the mount and every mount on it leave the table; descriptors into them stay usable.</summary>
    private void DetachTree(FakeMount mount)
    {
        mount.Attached = false;
        foreach (var child in _mounts.Where(m => m.Attached && m.Parent == mount).ToList())
        {
            DetachTree(child);
        }
    }

    private string NextDevice() => "0:" + (_nextDevice++).ToString(CultureInfo.InvariantCulture);

    /// <summary>path_mount's per-mount flags from mount(2) flags (fs/namespace.c).</summary>
    private static MntFlags PerMountFlags(ulong flags, MntFlags existing, bool remount)
    {
        var result = (flags & Native.MsNoatime) == 0 ? MntFlags.RelAtime : MntFlags.None;
        if ((flags & Native.MsNosuid) != 0)
        {
            result |= MntFlags.NoSuid;
        }
        if ((flags & Native.MsNodev) != 0)
        {
            result |= MntFlags.NoDev;
        }
        if ((flags & Native.MsNoexec) != 0)
        {
            result |= MntFlags.NoExec;
        }
        if ((flags & Native.MsNoatime) != 0)
        {
            result |= MntFlags.NoAtime;
        }
        if ((flags & Native.MsNodiratime) != 0)
        {
            result |= MntFlags.NoDirAtime;
        }
        if ((flags & Native.MsStrictatime) != 0)
        {
            result &= ~(MntFlags.RelAtime | MntFlags.NoAtime);
        }
        if ((flags & Native.MsRdonly) != 0)
        {
            result |= MntFlags.ReadOnly;
        }
        // "The default atime for remount is preservation".
        const ulong atime = Native.MsNoatime | Native.MsNodiratime | Native.MsRelatime | Native.MsStrictatime;
        if (remount && (flags & atime) == 0)
        {
            result = (result & ~MntFlags.AtimeMask) | (existing & MntFlags.AtimeMask);
        }
        return result;
    }

    /// <summary>show_mnt_opts: ro/rw first, then the per-mount flags in the kernel's order.</summary>
    private static string FormatOptions(MntFlags flags)
    {
        var options = new List<string> { (flags & MntFlags.ReadOnly) != 0 ? "ro" : "rw" };
        foreach (var (flag, name) in OptionNames)
        {
            if ((flags & flag) != 0)
            {
                options.Add(name);
            }
        }
        return string.Join(',', options);
    }

    private static MntFlags ParseOptions(string options)
    {
        var result = MntFlags.None;
        foreach (var option in options.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            result |= option switch
            {
                "ro" => MntFlags.ReadOnly,
                "rw" => MntFlags.None,
                _ => OptionNames.FirstOrDefault(o => o.Name == option) is { Name: not null } known
                    ? known.Flag
                    : throw new NotSupportedException($"FakeKernel: per-mount option '{option}'"),
            };
        }
        return result;
    }

    private static readonly (MntFlags Flag, string Name)[] OptionNames =
    [
        (MntFlags.NoSuid, "nosuid"),
        (MntFlags.NoDev, "nodev"),
        (MntFlags.NoExec, "noexec"),
        (MntFlags.NoAtime, "noatime"),
        (MntFlags.NoDirAtime, "nodiratime"),
        (MntFlags.RelAtime, "relatime"),
    ];

    /// <summary>mountinfo's escapes (fs/proc_namespace.c: mangle " \t\n\\").</summary>
    private static string Escape(string path) =>
        path.Replace("\\", "\\134", StringComparison.Ordinal)
            .Replace(" ", "\\040", StringComparison.Ordinal)
            .Replace("\t", "\\011", StringComparison.Ordinal)
            .Replace("\n", "\\012", StringComparison.Ordinal);

    [Flags]
    private enum MntFlags
    {
        None = 0,
        ReadOnly = 1,
        NoSuid = 2,
        NoDev = 4,
        NoExec = 8,
        NoAtime = 16,
        NoDirAtime = 32,
        RelAtime = 64,
        AtimeMask = NoAtime | NoDirAtime | RelAtime,
    }

    private sealed class FakeMount(
        int id,
        FakeMount? parent,
        FakeInode? mountpoint,
        FakeInode root,
        FakeFilesystem fs,
        MntFlags flags
    )
    {
        public int Id { get; } = id;
        public FakeMount? Parent { get; } = parent;
        public FakeInode? Mountpoint { get; } = mountpoint;
        public FakeInode Root { get; } = root;
        public FakeFilesystem Fs { get; } = fs;
        public MntFlags Flags { get; set; } = flags;
        public bool Attached { get; set; } = true;
        public int Users { get; set; }
    }

    private readonly record struct Location(FakeMount Mount, FakeInode Node);

    private readonly record struct Resolution(int Errno, Location Loc)
    {
        public static Resolution Ok(Location at) => new(0, at);

        public static Resolution Failed(int errno) => new(errno, default);
    }

    private sealed record Injection(string Call, string Path, int Errno, ulong WithFlags)
    {
        public int Left { get; set; }
    }

    private sealed class HungException(ManualResetEventSlim gate) : Exception("hung")
    {
        public ManualResetEventSlim Gate { get; } = gate;
    }

    private sealed class Callback(Action action) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                action();
            }
        }
    }
}

/// <summary>One call the node made through the seam: its name, its path as a real path, its flags.</summary>
public sealed record KernelCall(string Call, string Path, ulong Flags);

internal enum NodeKind
{
    Directory,
    File,
    Symlink,
}

/// <summary>A directory, file or symlink in a <see cref="FakeFilesystem"/>.</summary>
internal sealed class FakeInode(
    FakeFilesystem fs,
    FakeInode? parent,
    string name,
    NodeKind kind,
    string? linkTarget,
    long inode
)
{
    public FakeFilesystem Fs { get; } = fs;
    public FakeInode? Parent { get; } = parent;
    public string Name { get; } = name;
    public NodeKind Kind { get; } = kind;
    public string? LinkTarget { get; } = linkTarget;
    public long Inode { get; } = inode;
    public Dictionary<string, FakeInode> Children { get; } = new(StringComparer.Ordinal);

    /// <summary>What statvfs answers for this path, when the filesystem answers per path (SSHFS).</summary>
    public StatVfs? Statvfs { get; set; }

    public FakeInode Add(string name, NodeKind kind, string? linkTarget)
    {
        var node = new FakeInode(Fs, this, name, kind, linkTarget, Fs.NextInode());
        Children.Add(name, node);
        return node;
    }
}

/// <summary>
/// One filesystem (a superblock): its type, source, device and super options as mountinfo shows
/// them, its tree, and what statvfs answers for it. The storage host's side of the world is
/// changed here: <see cref="MakeDirectories"/> and <see cref="AnswerStatvfs"/> take paths inside
/// this filesystem (/k8s/pvc-1 on the SSHFS mount of the pool root).
/// </summary>
public sealed class FakeFilesystem
{
    private readonly object _sync;
    private long _nextInode = 2;

    internal FakeFilesystem(FakeKernel kernel, string fsType, string source, string device, string superOptions)
    {
        _sync = kernel.Sync;
        FsType = fsType;
        Source = source;
        Device = device;
        SuperOptions = superOptions;
        Root = new FakeInode(this, null, "", NodeKind.Directory, null, NextInode());
        // Distinct numbers per filesystem, so two filesystems never look like one.
        var minor = ulong.Parse(
            device[(device.IndexOf(':', StringComparison.Ordinal) + 1)..],
            CultureInfo.InvariantCulture
        );
        Stats = FakeStats.Of(blocks: 100_000 + minor, free: 50_000 + minor, files: 10_000 + minor, freeFiles: 9_000);
    }

    public string FsType { get; }
    public string Source { get; }
    public string Device { get; }
    public string SuperOptions { get; }

    /// <summary>A read-only superblock (super options starting "ro", as ZFS's readonly=on mounts a dataset): nothing on it can be written through any mount.</summary>
    public bool ReadOnly => SuperOptions == "ro" || SuperOptions.StartsWith("ro,", StringComparison.Ordinal);

    /// <summary>What statvfs answers anywhere in this filesystem, unless a path answers its own (<see cref="AnswerStatvfs"/>).</summary>
    public StatVfs Stats { get; set; }

    internal FakeInode Root { get; }

    /// <summary>0, or the errno every call into it answers (<see cref="FakeKernel.Kill"/>).</summary>
    internal int DeadErrno { get; set; }

    /// <summary>Set while calls into it block (<see cref="FakeKernel.Hang"/>).</summary>
    internal ManualResetEventSlim? Gate { get; set; }

    internal long NextInode() => Interlocked.Increment(ref _nextInode);

    /// <summary>mkdir -p inside this filesystem (on the storage host: a dataset's directory).</summary>
    public void MakeDirectories(string path)
    {
        lock (_sync)
        {
            var node = Root;
            foreach (var name in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                node = node.Children.TryGetValue(name, out var child)
                    ? child
                    : node.Add(name, NodeKind.Directory, null);
            }
        }
    }

    /// <summary>
    /// statvfs of <paramref name="path"/> (inside this filesystem) and below answers
    /// <paramref name="stats"/>, or, with null, what its parent answers: over SSHFS the storage host
    /// answers per path with the numbers of the dataset the path is in, so a dataset mounted there
    /// answers its own and an unmounted one exactly its parent's.
    /// </summary>
    public void AnswerStatvfs(string path, StatVfs? stats)
    {
        lock (_sync)
        {
            Find(path).Statvfs = stats;
        }
    }

    /// <summary>A symbolic link inside this filesystem (on the storage host), at <paramref name="path"/>, replacing a directory there.</summary>
    public void ReplaceWithSymlink(string path, string target)
    {
        lock (_sync)
        {
            var node = Find(path);
            var parent = node.Parent ?? throw new InvalidOperationException("FakeFilesystem: not the root");
            parent.Children.Remove(node.Name);
            parent.Add(node.Name, NodeKind.Symlink, target);
        }
    }

    internal StatVfs StatvfsOf(FakeInode node)
    {
        for (var n = node; n is not null; n = n.Parent)
        {
            if (n.Statvfs is { } own)
            {
                return own;
            }
        }
        return Stats;
    }

    internal string PathOf(FakeInode node)
    {
        var parts = new List<string>();
        for (var n = node; n.Parent is not null; n = n.Parent)
        {
            parts.Add(n.Name);
        }
        parts.Reverse();
        return "/" + string.Join('/', parts);
    }

    private FakeInode Find(string path)
    {
        var node = Root;
        foreach (var name in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node.Children.TryGetValue(name, out var child)
                ? child
                : throw new InvalidOperationException($"FakeFilesystem {Source}: no {path}");
        }
        return node;
    }
}

/// <summary>statvfs numbers for the model.</summary>
public static class FakeStats
{
    public static StatVfs Of(ulong blocks, ulong free, ulong files, ulong freeFiles, ulong blockSize = 4096) =>
        new()
        {
            Bsize = blockSize,
            Frsize = blockSize,
            Blocks = blocks,
            Bfree = free,
            Bavail = free,
            Files = files,
            Ffree = freeFiles,
            Favail = freeFiles,
            Namemax = 255,
        };
}
