using Csi.V1;
using ZfsCsi.Core.Volumes;
using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>A pool with a thousand volumes of ours, made straight with zfs (unmounted, to be quick).</summary>
public sealed class ThousandVolumesFixture : DriverFixture
{
    public const int Count = 1000;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        for (var i = 0; i < Count; i++)
        {
            await Pool.MakeReadyVolumeByHandAsync($"pvc-scale-{i:D4}");
        }
    }
}

/// <summary>ListVolumes and GetCapacity cost one zfs process in all, never one per volume.</summary>
public sealed class ScaleTests(ThousandVolumesFixture driver) : IClassFixture<ThousandVolumesFixture>
{
    [Fact]
    public async Task Listing_a_thousand_volumes_runs_one_zfs_process()
    {
        ListVolumesResponse? response = null;
        var commands = await driver.Commands.DuringAsync(async () =>
            response = await driver.Client.Controller.ListVolumesAsync(new ListVolumesRequest())
        );
        Assert.Equal(ThousandVolumesFixture.Count, response!.Entries.Count);
        Assert.Single(commands);
    }

    [Fact]
    public async Task Every_page_of_a_thousand_volumes_runs_one_zfs_process()
    {
        var token = "";
        var total = 0;
        do
        {
            ListVolumesResponse? page = null;
            var commands = await driver.Commands.DuringAsync(async () =>
                page = await driver.Client.Controller.ListVolumesAsync(
                    new ListVolumesRequest { MaxEntries = 250, StartingToken = token }
                )
            );
            Assert.Single(commands);
            total += page!.Entries.Count;
            token = page.NextToken;
        } while (token.Length > 0);
        Assert.Equal(ThousandVolumesFixture.Count, total);
    }

    [Fact]
    public async Task GetCapacity_with_a_thousand_volumes_runs_one_zfs_process()
    {
        var commands = await driver.Commands.DuringAsync(async () =>
            await driver.Client.Controller.GetCapacityAsync(new GetCapacityRequest())
        );
        Assert.Single(commands);
    }

    [Fact]
    public async Task Listing_volume_health_of_a_thousand_volumes_runs_two_processes()
    {
        // Unmounted volumes (canmount=off here) are reported INACCESSIBLE.
        ControllerListVolumeHealthResponse? response = null;
        var commands = await driver.Commands.DuringAsync(async () =>
            response = await driver.Client.Controller.ControllerListVolumeHealthAsync(
                new ControllerListVolumeHealthRequest()
            )
        );
        Assert.Equal(2, commands.Count);
        Assert.Equal(ThousandVolumesFixture.Count, response!.Entries.Count);
        Assert.All(response.Entries, e => Assert.Contains(e.HealthStatuses, s => s.Reason == "DatasetNotMounted"));
    }
}
