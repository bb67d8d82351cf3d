using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// Runs a call that may block forever in the kernel (any stat, open or statvfs on a dead SSHFS
/// mount or on a bind of it) on a dedicated thread, and stops waiting after a deadline. A hung
/// thread cannot be cancelled; it is abandoned and finishes when the kernel lets it go (sshfs
/// reconnects or the mount is detached). Abandoned threads are counted, and past a cap the node
/// refuses at once instead of piling up threads: the kubelet is never blocked by a dead /data.
/// </summary>
public static class Deadline
{
    /// <summary>How long a filesystem call may take before /data is called dead.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(2);

    private const int MaxAbandoned = 32;
    private static int _abandoned;

    /// <summary>Threads still stuck in the kernel after their caller gave up on them.</summary>
    public static int Abandoned => Volatile.Read(ref _abandoned);

    public static Task<T> RunAsync<T>(string what, Func<T> call, TimeSpan? timeout = null) =>
        RunAsync(what, call, timeout, held: null);

    /// <summary>
    /// As above; <paramref name="held"/> (a <see cref="SafeDirectory.Lease"/> the call uses) is
    /// released by the thread when the call returns, not when the caller stops waiting: an fd
    /// an abandoned call still uses must not be closed and its number reused under it.
    /// </summary>
    public static Task<T> RunAsync<T>(string what, Func<T> call, TimeSpan? timeout, IDisposable? held)
    {
        var limit = timeout ?? Default;
        if (Abandoned >= MaxAbandoned)
        {
            held?.Dispose();
            throw new DeadMountException(
                $"{what}: {Abandoned} earlier filesystem calls are still hung; the node's /data is not answering"
            );
        }
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        // 0 running, 1 finished, 2 abandoned: whoever moves it first decides who counts.
        var state = 0;
        var thread = new Thread(() =>
        {
            try
            {
                done.TrySetResult(call());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
            finally
            {
                held?.Dispose();
                if (Interlocked.CompareExchange(ref state, 1, 0) == 2)
                {
                    Interlocked.Decrement(ref _abandoned);
                }
            }
        })
        {
            IsBackground = true,
            Name = "fs-deadline",
        };
        thread.Start();
        return WaitAsync(done.Task, limit, what, () =>
        {
            if (Interlocked.CompareExchange(ref state, 2, 0) == 0)
            {
                Interlocked.Increment(ref _abandoned);
            }
        });
    }

    private static async Task<T> WaitAsync<T>(Task<T> task, TimeSpan limit, string what, Action abandon)
    {
        try
        {
            return await task.WaitAsync(limit).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            abandon();
            throw new DeadMountException(
                $"{what} did not answer within {limit.TotalSeconds:F0} s: the node's /data (SSHFS) is hung or its link is down"
            );
        }
    }
}

/// <summary>The node's /data, or a bind of it, does not answer: UNAVAILABLE, the CO retries later.</summary>
public sealed class DeadMountException(string message) : ZfsCsiException(ErrorKind.Unavailable, message);
