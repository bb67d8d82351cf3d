using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Tests.Driver.Grpc;

public sealed class OperationLocksTryAcquireTests
{
    private readonly OperationLocks _locks = new();

    [Fact]
    public void Try_acquire_of_a_held_key_is_null_and_takes_nothing()
    {
        using var held = _locks.Acquire("data/k8s/pvc-1");

        Assert.Null(_locks.TryAcquire("data/k8s/pvc-1"));
        held.Dispose();
        using var again = _locks.TryAcquire("data/k8s/pvc-1");
        Assert.NotNull(again);
    }

    [Fact]
    public void A_key_taken_by_try_acquire_makes_acquire_abort_until_released()
    {
        var taken = _locks.TryAcquire("data/k8s/pvc-1")!;

        Assert.Throws<Core.Errors.OperationPendingException>(() => _locks.Acquire("data/k8s/pvc-1"));
        taken.Dispose();
        using var again = _locks.Acquire("data/k8s/pvc-1");
    }
}
