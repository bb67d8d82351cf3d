namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// Base of every conformance test class: the shared driver, and the volumes this test made,
/// deleted when it ends whatever happened. All classes run in one collection (one driver, one
/// pool), one test at a time, so listings and capacities are not disturbed by other tests.
/// </summary>
[Collection(ConformanceCollection.Name)]
public abstract class ConformanceTest(ConformanceFixture fx) : IAsyncLifetime
{
    protected ConformanceFixture Fx { get; } = fx;

    protected Volumes Volumes { get; } = new(fx);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync() => await Volumes.DisposeAsync();

    /// <summary>
    /// The call fails with exactly <paramref name="code"/> (<see cref="Rpc.FailsWith(Grpc.Core.StatusCode, Func{Task})"/>)
    /// and leaves the storage and the node as they were (<see cref="Footprint"/>). The call is made
    /// only after the "before" is read.
    /// </summary>
    protected async Task<Grpc.Core.RpcException> FailsAndTouchesNothing(Grpc.Core.StatusCode code, Func<Task> call)
    {
        var before = await Footprint.OfAsync(Fx);
        var e = await Rpc.FailsWith(code, call);
        Assert.Equal(before, await Footprint.OfAsync(Fx));
        return e;
    }

    protected Task<Grpc.Core.RpcException> FailsAndTouchesNothing<T>(
        Grpc.Core.StatusCode code,
        Func<Grpc.Core.AsyncUnaryCall<T>> call
    ) => FailsAndTouchesNothing(code, async () => await call());
}
