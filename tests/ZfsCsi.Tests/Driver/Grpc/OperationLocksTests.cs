using ZfsCsi.Core.Errors;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Tests.Driver.Grpc;

public sealed class OperationLocksTests
{
    private readonly OperationLocks _locks = new();

    [Fact]
    public void A_second_acquire_of_a_busy_key_is_an_operation_pending_abort()
    {
        using var first = _locks.Acquire("data/k8s/pvc-1");

        var e = Assert.Throws<OperationPendingException>(() => _locks.Acquire("data/k8s/pvc-1"));

        Assert.Equal(ErrorKind.Aborted, e.Kind);
        Assert.Contains("data/k8s/pvc-1", e.Message);
    }

    [Fact]
    public void Other_keys_stay_free()
    {
        using var first = _locks.Acquire("data/k8s/pvc-1");
        using var second = _locks.Acquire("data/k8s/pvc-2");
        using var third = _locks.Acquire("data/k8s/PVC-1");
    }

    [Fact]
    public void Dispose_releases_the_key()
    {
        _locks.Acquire("data/k8s/pvc-1").Dispose();

        using var again = _locks.Acquire("data/k8s/pvc-1");
    }

    [Fact]
    public void Disposing_twice_does_not_release_someone_elses_lock()
    {
        var first = _locks.Acquire("k");
        first.Dispose();
        using var second = _locks.Acquire("k");

        first.Dispose();

        Assert.Throws<OperationPendingException>(() => _locks.Acquire("k"));
    }

    [Fact]
    public async Task Of_100_parallel_acquirers_of_one_key_exactly_one_wins()
    {
        using var start = new Barrier(100);
        var tasks = Enumerable
            .Range(0, 100)
            .Select(_ =>
                Task.Factory.StartNew(
                    () =>
                    {
                        start.SignalAndWait();
                        try
                        {
                            return _locks.Acquire("data/k8s/pvc-1");
                        }
                        catch (OperationPendingException)
                        {
                            return null;
                        }
                    },
                    TaskCreationOptions.LongRunning
                )
            )
            .ToArray();

        var results = await Task.WhenAll(tasks);

        var winner = Assert.Single(results, r => r is not null);
        winner!.Dispose();
        using var after = _locks.Acquire("data/k8s/pvc-1");
    }
}
