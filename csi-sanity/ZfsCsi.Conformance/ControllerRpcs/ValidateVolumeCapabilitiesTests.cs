using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>
/// CSI spec, "ValidateVolumeCapabilities" and its errors. No capability gates it: every
/// controller plugin implements it.
/// </summary>
public sealed class ValidateVolumeCapabilitiesTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    [Fact]
    [Trait("spec", "ValidateVolumeCapabilities")]
    public async Task ValidateVolumeCapabilities_without_a_volume_id_is_INVALID_ARGUMENT()
    {
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ValidateVolumeCapabilitiesAsync(
                new ValidateVolumeCapabilitiesRequest { VolumeCapabilities = { Requests.Mount() } }
            )
        );
    }

    [Fact]
    [Trait("spec", "ValidateVolumeCapabilities")]
    public async Task ValidateVolumeCapabilities_without_capabilities_is_INVALID_ARGUMENT()
    {
        var volume = await Volumes.CreateAsync("vvc-nocap");
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ValidateVolumeCapabilitiesAsync(
                new ValidateVolumeCapabilitiesRequest { VolumeId = volume.VolumeId }
            )
        );
    }

    [Theory]
    [InlineData("csan-unknown-volume")]
    [InlineData("{parent}/csan-never-made")]
    [Trait("spec", "ValidateVolumeCapabilities Errors")]
    public async Task ValidateVolumeCapabilities_of_an_unknown_volume_is_NOT_FOUND(string id)
    {
        // ValidateVolumeCapabilities Errors: "Volume does not exist | 5 NOT_FOUND".
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.ValidateVolumeCapabilitiesAsync(
                new ValidateVolumeCapabilitiesRequest
                {
                    VolumeId = id.Replace("{parent}", Fx.Pool.Parent, StringComparison.Ordinal),
                    VolumeCapabilities = { Requests.Mount() },
                }
            )
        );
    }

    [Fact]
    [Trait("spec", "ValidateVolumeCapabilities")]
    public async Task Supported_capabilities_are_confirmed_as_requested_and_twice_the_same()
    {
        // "confirmed: ... This field SHALL only be set if all the volume capabilities specified
        // in the request are supported" and then echoes them.
        var volume = await Volumes.CreateAsync("vvc-ok");
        var request = new ValidateVolumeCapabilitiesRequest
        {
            VolumeId = volume.VolumeId,
            VolumeCapabilities = { Requests.Mount(), Requests.Mount(Mode.MultiNodeMultiWriter) },
        };
        var first = await Fx.Controller.ValidateVolumeCapabilitiesAsync(request);
        Assert.NotNull(first.Confirmed);
        Assert.Equal(request.VolumeCapabilities, first.Confirmed.VolumeCapabilities);
        var second = await Fx.Controller.ValidateVolumeCapabilitiesAsync(request);
        Assert.Equal(first, second);
    }

    [Fact]
    [Trait("spec", "ValidateVolumeCapabilities")]
    public async Task An_unsupported_capability_is_not_confirmed_and_not_an_error()
    {
        // An unsupported capability leaves "confirmed" unset; "message" MAY say why. It is an
        // answer, not an error. The driver serves filesystems only, so block is unsupported.
        var volume = await Volumes.CreateAsync("vvc-block");
        var response = await Fx.Controller.ValidateVolumeCapabilitiesAsync(
            new ValidateVolumeCapabilitiesRequest
            {
                VolumeId = volume.VolumeId,
                VolumeCapabilities = { Requests.Mount(), Requests.Block() },
            }
        );
        Assert.Null(response.Confirmed);
        Assert.False(string.IsNullOrWhiteSpace(response.Message), "the answer does not say why nothing was confirmed");
    }
}
