using ZfsCsi.Core.Volumes;
using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>A controller that sweeps every 10 s (the shortest period allowed).</summary>
public sealed class SweepingControllerFixture : DriverFixture
{
    protected override IEnumerable<string> ExtraArgs => ["--mode", "controller", "--sweep-interval", "10"];
}

/// <summary>What no delete comes for is still cleaned: the controller sweeps by itself.</summary>
public sealed class PeriodicSweepTests(SweepingControllerFixture driver) : IClassFixture<SweepingControllerFixture>
{
    [Fact]
    public async Task A_kept_volume_nothing_needs_is_destroyed_by_the_periodic_sweep_without_any_delete()
    {
        // A kept (deleted) volume whose last dependent went while the driver was down: no RPC will
        // ever sweep after it.
        var dataset = await driver.Pool.MakeVolumeByHandAsync(Requests.Unique("pvc-kept"), Markers.StateDeleted);
        var ready = (await driver.Client.Controller.CreateVolumeAsync(Requests.Create(Requests.Unique("pvc-live"))))
            .Volume
            .VolumeId;

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((await driver.ChildDatasetsAsync()).Contains(dataset))
        {
            Assert.True(
                waited.Elapsed < TimeSpan.FromSeconds(40),
                "the periodic sweep did not remove the kept volume within 40 s"
            );
            await Task.Delay(500);
        }

        Assert.Contains(ready, await driver.ChildDatasetsAsync());
    }
}
