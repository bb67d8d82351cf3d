using System.Threading.Channels;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// Where a delete asks for a sweep instead of running one inside its caller's deadline: a sweep
/// lists the whole parent, so inline it made every DeleteVolume and DeleteSnapshot cost O(inventory).
/// Requests coalesce (one pending at most); the controller's background sweep waits on them beside
/// its interval, so what a delete freed (a kept volume whose last snapshot went) is destroyed within
/// seconds, off the request path.
/// </summary>
public sealed class SweepRequests
{
    private readonly Channel<bool> _pending = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true }
    );

    /// <summary>Asks for a sweep soon; never blocks, never fails.</summary>
    public void Request() => _pending.Writer.TryWrite(true);

    /// <summary>True when a sweep was asked for (and takes that request), false after <paramref name="timeout"/> without one.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (TryTake())
        {
            return true;
        }
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            timer.CancelAfter(timeout);
        }
        try
        {
            await _pending.Reader.WaitToReadAsync(timer.Token).ConfigureAwait(false);
            return TryTake();
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Takes a pending request, if any: a sweep about to start serves every request made before it.</summary>
    public bool TryTake() => _pending.Reader.TryRead(out _);
}
