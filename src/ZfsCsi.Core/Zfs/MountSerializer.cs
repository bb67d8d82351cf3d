using System.Runtime.InteropServices;

namespace ZfsCsi.Core.Zfs;

/// <summary>
/// Runs mount-causing zfs commands (create, clone, mount, unmount, destroy, rename, promote,
/// receive) one at a time. zfs-fuse wedges every mount on the machine when two of them
/// interleave (shared/notes/zfs.md, "zfs-fuse can wedge on concurrent mounts"), and other
/// processes on the machine (a second driver, a test) may mount too, so besides an in-process
/// gate the serializer holds an advisory flock(2) on a lock file that they all share.
/// Reads (get, list) never take it.
/// </summary>
public sealed partial class MountSerializer : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string? _lockFile;

    /// <param name="lockFile">A file every process that mounts on this ZFS shares; null for the in-process gate only (OpenZFS, one driver).</param>
    public MountSerializer(string? lockFile) => _lockFile = lockFile;

    public async Task<T> RunAsync<T>(Func<Task<T>> action, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var fileLock = _lockFile is null ? null : await FileLock.AcquireAsync(_lockFile, cancellationToken).ConfigureAwait(false);
            return await action().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>
    /// An exclusive flock(2) on a file, polled without blocking a thread. The descriptor comes from
    /// open(2) itself: a FileStream would take .NET's own shared flock on it, and processes waiting
    /// while holding that shared lock would starve each other's exclusive one.
    /// </summary>
    public sealed partial class FileLock : IDisposable
    {
        private const int OpenReadWrite = 0x2;
        private const int OpenCreate = 0x40;
        private const int OpenCloseOnExec = 0x80000;
        private const int LockExclusive = 2;
        private const int LockNonBlocking = 4;
        private int _fd;

        private FileLock(int fd) => _fd = fd;

        public static async Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var fd = open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, 0x1b6 /* 0666 */);
            if (fd < 0)
            {
                throw new IOException($"cannot open lock file {path}: errno {Marshal.GetLastPInvokeError()}");
            }
            try
            {
                while (flock(fd, LockExclusive | LockNonBlocking) != 0)
                {
                    await Task.Delay(2, cancellationToken).ConfigureAwait(false);
                }
                return new FileLock(fd);
            }
            catch
            {
                _ = close(fd);
                throw;
            }
        }

        /// <summary>Closing the descriptor releases the lock.</summary>
        public void Dispose()
        {
            var fd = Interlocked.Exchange(ref _fd, -1);
            if (fd >= 0)
            {
                _ = close(fd);
            }
        }

        [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int open(string path, int flags, int mode);

        [LibraryImport("libc", SetLastError = true)]
        private static partial int flock(int fd, int operation);

        [LibraryImport("libc", SetLastError = true)]
        private static partial int close(int fd);
    }
}
