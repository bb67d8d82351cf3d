using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>
/// CSI spec, "ControllerGetVolumeHealth" (GET_VOLUME_HEALTH) and "ControllerListVolumeHealth"
/// (LIST_VOLUME_HEALTH), alpha in 1.13, where they replace the removed VolumeCondition.
/// </summary>
public sealed class VolumeHealthTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    [Fact]
    [Trait("spec", "ControllerGetVolumeHealth")]
    public async Task ControllerGetVolumeHealth_without_a_volume_id_is_INVALID_ARGUMENT()
    {
        Assert.True(
            Fx.Advertises(ControllerRpc.GetVolumeHealth),
            "the controller does not advertise GET_VOLUME_HEALTH"
        );
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ControllerGetVolumeHealthAsync(new ControllerGetVolumeHealthRequest())
        );
    }

    [Fact]
    [Trait("spec", "ControllerGetVolumeHealth")]
    public async Task ControllerGetVolumeHealth_of_an_unknown_volume_is_NOT_FOUND()
    {
        Assert.True(Fx.Advertises(ControllerRpc.GetVolumeHealth));
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.ControllerGetVolumeHealthAsync(
                new ControllerGetVolumeHealthRequest { VolumeId = $"{Fx.Pool.Parent}/csan-never-made" }
            )
        );
    }

    [Fact]
    [Trait("spec", "ControllerGetVolumeHealth")]
    public async Task A_healthy_volume_reports_no_health_status()
    {
        // VolumeHealth.health_statuses: "An empty list means no adverse health condition is known".
        Assert.True(Fx.Advertises(ControllerRpc.GetVolumeHealth));
        var volume = await Volumes.CreateAsync("health");
        var response = await Fx.Controller.ControllerGetVolumeHealthAsync(
            new ControllerGetVolumeHealthRequest { VolumeId = volume.VolumeId }
        );
        Assert.Equal(volume.VolumeId, response.VolumeHealth.VolumeId);
        Assert.Empty(response.VolumeHealth.HealthStatuses);
    }

    [Fact]
    [Trait("spec", "ControllerListVolumeHealth")]
    public async Task ControllerListVolumeHealth_lists_no_healthy_volume()
    {
        // ControllerListVolumeHealthResponse.entries: "List of abnormal volume health entries."
        Assert.True(
            Fx.Advertises(ControllerRpc.ListVolumeHealth),
            "the controller does not advertise LIST_VOLUME_HEALTH"
        );
        var volume = await Volumes.CreateAsync("health-list");
        var token = "";
        do
        {
            var page = await Fx.Controller.ControllerListVolumeHealthAsync(
                new ControllerListVolumeHealthRequest { MaxEntries = 1, StartingToken = token }
            );
            Assert.True(page.Entries.Count <= 1);
            Assert.DoesNotContain(page.Entries, e => e.VolumeId == volume.VolumeId);
            token = page.NextToken;
        } while (token.Length > 0);
    }

    [Fact]
    [Trait("spec", "ControllerListVolumeHealth")]
    public async Task ControllerListVolumeHealth_with_an_invalid_starting_token_is_ABORTED()
    {
        // As for every paged list in the spec: a token the plugin did not issue is ABORTED.
        Assert.True(Fx.Advertises(ControllerRpc.ListVolumeHealth));
        await Rpc.FailsWith(
            StatusCode.Aborted,
            Fx.Controller.ControllerListVolumeHealthAsync(
                new ControllerListVolumeHealthRequest { StartingToken = "invalid-token" }
            )
        );
    }

    [Fact]
    [Trait("spec", "ControllerListVolumeHealth")]
    public async Task ControllerListVolumeHealth_with_a_negative_max_entries_is_INVALID_ARGUMENT()
    {
        // max_entries: "The value of this field MUST NOT be negative."
        Assert.True(Fx.Advertises(ControllerRpc.ListVolumeHealth));
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ControllerListVolumeHealthAsync(new ControllerListVolumeHealthRequest { MaxEntries = -1 })
        );
    }
}
