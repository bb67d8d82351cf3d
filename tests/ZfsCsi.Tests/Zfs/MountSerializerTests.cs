using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Zfs;

public sealed class MountSerializerTests : IDisposable
{
    private readonly string _lockFile = Path.Combine(Path.GetTempPath(), $"zfs-csi-unit-{Guid.NewGuid():N}", "mount.lock");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_lockFile)!, recursive: true);

    [Fact]
    public async Task The_file_lock_is_exclusive_until_released()
    {
        using var first = await MountSerializer.FileLock.AcquireAsync(_lockFile, CancellationToken.None);
        using var tooLong = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MountSerializer.FileLock.AcquireAsync(_lockFile, tooLong.Token));

        first.Dispose();
        using var second = await MountSerializer.FileLock.AcquireAsync(_lockFile, new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
    }

    [Fact]
    public async Task Disposing_a_file_lock_twice_is_harmless()
    {
        var first = await MountSerializer.FileLock.AcquireAsync(_lockFile, CancellationToken.None);
        first.Dispose();
        first.Dispose();

        using var second = await MountSerializer.FileLock.AcquireAsync(_lockFile, new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
    }

    [Fact]
    public async Task Actions_behind_a_lock_file_run_one_at_a_time()
    {
        using var serializer = new MountSerializer(_lockFile);
        var inFlight = 0;
        var overlaps = 0;

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => serializer.RunAsync(async () =>
        {
            if (Interlocked.Increment(ref inFlight) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }
            await Task.Delay(3);
            Interlocked.Decrement(ref inFlight);
            return 0;
        }, CancellationToken.None))));

        Assert.Equal(0, overlaps);
    }

    [Fact]
    public async Task A_failing_action_releases_the_gate()
    {
        using var serializer = new MountSerializer(_lockFile);

        await Assert.ThrowsAsync<InvalidOperationException>(() => serializer.RunAsync<int>(() => throw new InvalidOperationException(), CancellationToken.None));

        Assert.Equal(7, await serializer.RunAsync(() => Task.FromResult(7), new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token));
    }

    [Fact]
    public async Task A_lock_held_elsewhere_past_the_wait_limit_fails_like_a_hung_command_and_runs_nothing()
    {
        using var held = await MountSerializer.FileLock.AcquireAsync(_lockFile, CancellationToken.None);
        using var serializer = new MountSerializer(_lockFile, TimeSpan.FromMilliseconds(100));
        var ran = false;

        var e = await Assert.ThrowsAsync<ZfsCsi.Core.Errors.ZfsCsiException>(() =>
            serializer.RunAsync(() => { ran = true; return Task.FromResult(0); }, CancellationToken.None));

        Assert.Equal(ZfsCsi.Core.Errors.ErrorKind.Timeout, e.Kind);
        Assert.Contains("mount lock", e.Message);
        Assert.False(ran);
    }
}
