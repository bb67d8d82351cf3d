using System.Runtime.InteropServices;

namespace ZfsCsi.Core.Zfs;

/// <summary>
/// Runs mount-causing zfs commands (create, clone, mount, unmount, destroy, rename, promote,
/// receive) one at a time. zfs-fuse wedges every mount on the machine when two of them
/// interleave (docs/zfs.md, "Mounts and the mount lock"), and other
/// processes on the machine (a second driver, a test) may mount too, so besides an in-process
/// gate the serializer holds an advisory flock(2) on a lock file that they all share.
/// Reads (get, list) never take it.
/// </summary>
public sealed partial class MountSerializer : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string? _lockFile;
    private readonly TimeSpan _waitLimit;

    /// <param name="lockFile">A file every process that mounts on this ZFS shares; null for the in-process gate only (OpenZFS, one driver).</param>
    /// <param name="waitLimit">
    /// How long to wait for the lock before failing like a hung command: a process elsewhere that
    /// holds it (a hung `flock ... zfs mount`) must not hang the RPC. Null: no limit.
    /// </param>
    public MountSerializer(string? lockFile, TimeSpan? waitLimit = null)
    {
        _lockFile = lockFile;
        _waitLimit = waitLimit ?? Timeout.InfiniteTimeSpan;
    }

    public async Task<T> RunAsync<T>(Func<Task<T>> action, CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(_waitLimit);
        FileLock? fileLock = null;
        try
        {
            await _gate.WaitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw WaitedTooLong("this process's own mount-causing commands");
        }
        try
        {
            try
            {
                fileLock = _lockFile is null
                    ? null
                    : await FileLock.AcquireAsync(_lockFile, wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw WaitedTooLong(
                    $"the lock file {_lockFile}, held by another process (fuser {_lockFile} shows which)"
                );
            }
            return await action().ConfigureAwait(false);
        }
        finally
        {
            fileLock?.Dispose();
            _gate.Release();
        }
    }

    private Errors.ZfsCsiException WaitedTooLong(string what) =>
        new(
            Errors.ErrorKind.Timeout,
            $"waited {_waitLimit.TotalSeconds:F0} s for the ZFS mount lock ({what}); retry later"
        );

    public void Dispose() => _gate.Dispose();

    /// <summary>
    /// An exclusive flock(2) on a file. The descriptor comes from open(2) itself: a FileStream would
    /// take .NET's own shared flock on it, and processes waiting while holding that shared lock
    /// would starve each other's exclusive one.
    /// </summary>
    /// <remarks>
    /// A busy lock is waited for with a blocking flock(2) on a thread of its own, not by polling:
    /// the kernel wakes blocked waiters the moment the lock is released, so a process that takes
    /// the lock again and again (a driver working through a queue of creates) cannot starve the
    /// other processes on the machine, which a poller sleeping between tries could not promise.
    /// A cancelled wait returns at once; its thread stays blocked until the lock comes free, then
    /// releases it immediately. The serializer's gate lets one wait per process run at a time, so
    /// at most one such thread per wait limit can exist while another process holds the lock.
    /// </remarks>
    public sealed partial class FileLock : IDisposable
    {
        private const int OpenReadWrite = 0x2;
        private const int OpenCreate = 0x40;
        private const int OpenCloseOnExec = 0x80000;
        private const int LockExclusive = 2;
        private const int LockNonBlocking = 4;
        private const int ErrnoInterrupted = 4;
        private int _fd;

        private FileLock(int fd) => _fd = fd;

        public static async Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var fd = open(
                path,
                OpenReadWrite | OpenCreate | OpenCloseOnExec,
                0x1b6 /* 0666 */
            );
            if (fd < 0)
            {
                throw new IOException($"cannot open lock file {path}: errno {Marshal.GetLastPInvokeError()}");
            }
            if (flock(fd, LockExclusive | LockNonBlocking) == 0)
            {
                return new FileLock(fd);
            }
            var taken = WaitOnThread(fd, path);
            try
            {
                await taken.WaitAsync(cancellationToken).ConfigureAwait(false);
                return new FileLock(fd);
            }
            catch (OperationCanceledException)
            {
                // Nobody will own the lock when the thread gets it: give it straight back.
                _ = taken.ContinueWith(
                    _ => close(fd),
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default
                );
                throw;
            }
            catch
            {
                _ = close(fd);
                throw;
            }
        }

        private static Task WaitOnThread(int fd, string path)
        {
            var taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                while (flock(fd, LockExclusive) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != ErrnoInterrupted)
                    {
                        taken.SetException(new IOException($"cannot lock {path}: errno {errno}"));
                        return;
                    }
                }
                taken.SetResult();
            })
            {
                IsBackground = true,
                Name = "zfs-csi mount lock wait",
            };
            thread.Start();
            return taken.Task;
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
