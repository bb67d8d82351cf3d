using System.Collections.Concurrent;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Driver.Grpc;

/// <summary>
/// One lock per volume (or name), never one global mutex: operations on different volumes run in
/// parallel. A second operation on a busy key does not wait: it answers ABORTED, as the CSI spec
/// allows ("an operation is already pending for the specified volume"), and the CO retries.
/// The Core's sweep takes the same locks through <see cref="IVolumeLocks"/>.
/// </summary>
public sealed class OperationLocks : IVolumeLocks
{
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);

    /// <summary>Takes the lock for <paramref name="key"/> or throws <see cref="OperationPendingException"/>.</summary>
    public IDisposable Acquire(string key) =>
        TryAcquire(key)
        ?? throw new OperationPendingException(
            $"an operation on {Printable.Of(key, 200)} is already in progress; retry later"
        );

    /// <summary>Takes the lock for <paramref name="key"/>, or null when it is held.</summary>
    public IDisposable? TryAcquire(string key) => _held.TryAdd(key, 0) ? new Releaser(this, key) : null;

    private sealed class Releaser(OperationLocks owner, string key) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner._held.TryRemove(key, out _);
            }
        }
    }
}
