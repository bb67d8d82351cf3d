using System.Diagnostics;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Mount;

public sealed class DeadlineTests
{
    [Fact]
    public async Task A_call_that_answers_in_time_returns_its_value()
    {
        Assert.Equal(42, await Deadline.RunAsync("quick", () => 42, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_hung_call_is_abandoned_after_the_deadline_as_unavailable()
    {
        using var release = new ManualResetEventSlim();
        var watch = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<DeadMountException>(() =>
            Deadline.RunAsync(
                "statvfs /data",
                () => release.Wait(TimeSpan.FromSeconds(30)),
                TimeSpan.FromMilliseconds(200)
            )
        );
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Contains("statvfs /data", e.Message);
        release.Set();
    }

    [Fact]
    public async Task A_failing_call_passes_its_exception_through()
    {
        await Assert.ThrowsAsync<SyscallException>(() =>
            Deadline.RunAsync<int>("stat", () => throw new SyscallException("stat", "/x", Errno.ENOTCONN))
        );
    }
}
