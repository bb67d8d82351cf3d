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
}
