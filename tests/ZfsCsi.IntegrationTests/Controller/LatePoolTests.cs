using Csi.V1;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>A driver started before its pool is imported (the bootstrap imports it later), on a pool without the parent dataset yet.</summary>
public sealed class LatePoolFixture : DriverFixture
{
    public override async Task InitializeAsync()
    {
        await Pool.InitializeAsync();
        await TestPool.WithMountLockAsync(async () =>
        {
            for (
                var attempt = 0;
                attempt < 20 && (await Sh.RunAsync("zfs", "destroy", Pool.Parent)).ExitCode != 0;
                attempt++
            )
            {
                await Task.Delay(50);
            }
            await Sh.CheckAsync("zpool", "export", Pool.Name);
        });
        await StartDriverAsync();
    }
}

public sealed class LatePoolTests(LatePoolFixture driver) : IClassFixture<LatePoolFixture>
{
    [Fact]
    public async Task When_the_pool_arrives_after_the_driver_the_parent_is_made_and_volumes_are_served()
    {
        Assert.False((await driver.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);

        await TestPool.WithMountLockAsync(() =>
            Sh.CheckAsync("zpool", "import", "-d", driver.Pool.VdevDirectory, driver.Pool.Name)
        );

        Assert.True((await driver.Client.Identity.ProbeAsync(new ProbeRequest())).Ready);
        var volume = await driver.Client.Controller.CreateVolumeAsync(Create(Unique("pvc-late")));
        Assert.StartsWith(driver.Pool.Parent + "/", volume.Volume.VolumeId);
    }
}
