using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>CSI spec, "DeleteVolume" and "DeleteVolume Errors" (CREATE_DELETE_VOLUME).</summary>
public sealed class DeleteVolumeTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    [Fact]
    [Trait("spec", "DeleteVolume")]
    public async Task DeleteVolume_without_a_volume_id_is_INVALID_ARGUMENT()
    {
        // DeleteVolumeRequest.volume_id: "This field is REQUIRED."
        await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest()));
    }

    [Fact]
    [Trait("spec", "DeleteVolume")]
    public async Task DeleteVolume_twice_succeeds_both_times()
    {
        // DeleteVolume: "If a volume corresponding to the specified volume_id does not exist or
        // the artifacts associated with the volume do not exist anymore, the Plugin MUST reply 0 OK."
        var volume = await Volumes.CreateAsync("del-twice");
        await Fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
        await Fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });
    }

    [Theory]
    [InlineData("csan-unknown-volume")]
    [InlineData("no/such/pool/volume")]
    [InlineData("{parent}/csan-never-made")]
    [Trait("spec", "DeleteVolume")]
    public async Task DeleteVolume_of_an_unknown_id_succeeds(string id)
    {
        await Fx.Controller.DeleteVolumeAsync(
            new DeleteVolumeRequest { VolumeId = id.Replace("{parent}", Fx.Pool.Parent, StringComparison.Ordinal) }
        );
    }

    [Fact]
    [Trait("spec", "DeleteVolume")]
    public async Task A_deleted_volume_is_gone_from_every_rpc_that_names_it()
    {
        var volume = await Volumes.CreateAsync("del-gone");
        await Fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId });

        // ValidateVolumeCapabilities Errors: "Volume does not exist | 5 NOT_FOUND".
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.ValidateVolumeCapabilitiesAsync(
                new ValidateVolumeCapabilitiesRequest
                {
                    VolumeId = volume.VolumeId,
                    VolumeCapabilities = { Requests.Mount() },
                }
            )
        );
        if (Fx.Advertises(ControllerRpc.GetVolume))
        {
            await Rpc.FailsWith(
                StatusCode.NotFound,
                Fx.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume.VolumeId })
            );
        }
        if (Fx.Advertises(ControllerRpc.ListVolumes))
        {
            var ids = await ListVolumesTests.AllIdsAsync(Fx.Controller, 0);
            Assert.DoesNotContain(volume.VolumeId, ids);
        }
    }
}
