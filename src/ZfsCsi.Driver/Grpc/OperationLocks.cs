using System.Collections.Concurrent;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Driver.Grpc;

/// <summary>
/// One lock per volume (or name), never one global mutex: operations on different volumes run in
/// parallel. A second operation on a busy key does not wait: it answers ABORTED, as the CSI spec
/// allows ("an operation is already pending for the specified volume"), and the CO retries.
/// </summary>
public sealed class OperationLocks
{
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);

    /// <summary>Takes the lock for <paramref name="key"/> or throws <see cref="OperationPendingException"/>.</summary>
    public IDisposable Acquire(string key)
    {
        if (!_held.TryAdd(key, 0))
        {
            throw new OperationPendingException($"an operation on {key} is already in progress; retry later");
        }
        return new Releaser(this, key);
    }

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
