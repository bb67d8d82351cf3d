using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>CSI spec, "ControllerGetVolume" and its errors (GET_VOLUME, alpha).</summary>
public sealed class GetVolumeTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    public override Task InitializeAsync()
    {
        Assert.True(Fx.Advertises(ControllerRpc.GetVolume), "the controller does not advertise GET_VOLUME");
        return Task.CompletedTask;
    }

    [Fact]
    [Trait("spec", "ControllerGetVolume")]
    public async Task ControllerGetVolume_without_a_volume_id_is_INVALID_ARGUMENT()
    {
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest())
        );
    }

    [Theory]
    [InlineData("csan-unknown-volume")]
    [InlineData("{parent}/csan-never-made")]
    [Trait("spec", "ControllerGetVolume Errors")]
    public async Task ControllerGetVolume_of_an_unknown_volume_is_NOT_FOUND(string id)
    {
        // ControllerGetVolume Errors: "Volume does not exist | 5 NOT_FOUND".
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.ControllerGetVolumeAsync(
                new ControllerGetVolumeRequest
                {
                    VolumeId = id.Replace("{parent}", Fx.Pool.Parent, StringComparison.Ordinal),
                }
            )
        );
    }

    [Fact]
    [Trait("spec", "ControllerGetVolume")]
    public async Task ControllerGetVolume_returns_the_volume_and_a_status_the_same_twice()
    {
        // ControllerGetVolumeResponse: volume "REQUIRED", status "REQUIRED".
        var volume = await Volumes.CreateAsync("get");
        var first = await Fx.Controller.ControllerGetVolumeAsync(
            new ControllerGetVolumeRequest { VolumeId = volume.VolumeId }
        );
        Assert.Equal(volume.VolumeId, first.Volume.VolumeId);
        Assert.Equal(volume.CapacityBytes, first.Volume.CapacityBytes);
        Assert.NotNull(first.Status);
        if (!Fx.Advertises(ControllerRpc.ListVolumesPublishedNodes))
        {
            Assert.Empty(first.Status.PublishedNodeIds);
        }
        var second = await Fx.Controller.ControllerGetVolumeAsync(
            new ControllerGetVolumeRequest { VolumeId = volume.VolumeId }
        );
        Assert.Equal(first, second);
    }
}
