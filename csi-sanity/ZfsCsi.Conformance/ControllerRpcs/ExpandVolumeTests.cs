using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using static ZfsCsi.Conformance.Infrastructure.Requests;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>CSI spec, "ControllerExpandVolume" and its errors (EXPAND_VOLUME).</summary>
public sealed class ExpandVolumeTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    public override Task InitializeAsync()
    {
        Assert.True(Fx.Advertises(ControllerRpc.ExpandVolume), "the controller does not advertise EXPAND_VOLUME");
        return Task.CompletedTask;
    }

    private static ControllerExpandVolumeRequest Expand(string id, long required, long limit = 0) =>
        new()
        {
            VolumeId = id,
            CapacityRange = new CapacityRange { RequiredBytes = required, LimitBytes = limit },
            VolumeCapability = Mount(),
        };

    [Fact]
    [Trait("spec", "ControllerExpandVolume")]
    public async Task ControllerExpandVolume_without_a_volume_id_is_INVALID_ARGUMENT()
    {
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ControllerExpandVolumeAsync(Expand("", 2 * VolumeSize))
        );
    }

    [Fact]
    [Trait("spec", "ControllerExpandVolume")]
    public async Task ControllerExpandVolume_without_a_capacity_range_is_INVALID_ARGUMENT()
    {
        // ControllerExpandVolumeRequest.capacity_range: "This field is REQUIRED."
        var volume = await Volumes.CreateAsync("exp-norange");
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest { VolumeId = volume.VolumeId })
        );
    }

    [Theory]
    [InlineData("csan-unknown-volume")]
    [InlineData("{parent}/csan-never-made")]
    [Trait("spec", "ControllerExpandVolume Errors")]
    public async Task ControllerExpandVolume_of_an_unknown_volume_is_NOT_FOUND(string id)
    {
        // ControllerExpandVolume Errors: "Volume does not exist | 5 NOT_FOUND".
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.ControllerExpandVolumeAsync(
                Expand(id.Replace("{parent}", Fx.Pool.Parent, StringComparison.Ordinal), 2 * VolumeSize)
            )
        );
    }

    [Fact]
    [Trait("spec", "ControllerExpandVolume")]
    public async Task Expanding_gives_at_least_the_required_size_and_the_same_answer_twice()
    {
        var volume = await Volumes.CreateAsync("exp-grow");
        var first = await Fx.Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 2 * VolumeSize));
        Assert.True(
            first.CapacityBytes >= 2 * VolumeSize,
            $"expanded to {first.CapacityBytes} bytes, asked for {2 * VolumeSize}"
        );
        var second = await Fx.Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 2 * VolumeSize));
        Assert.Equal(first, second);
        if (Fx.Advertises(ControllerRpc.GetVolume))
        {
            var now = await Fx.Controller.ControllerGetVolumeAsync(
                new ControllerGetVolumeRequest { VolumeId = volume.VolumeId }
            );
            Assert.Equal(first.CapacityBytes, now.Volume.CapacityBytes);
        }
    }

    [Fact]
    [Trait("spec", "ControllerExpandVolume")]
    public async Task Expansion_needing_a_node_step_is_only_asked_for_when_a_node_can_do_it()
    {
        // node_expansion_required true makes the CO call NodeExpandVolume, which only a node with
        // EXPAND_VOLUME serves; a plugin whose nodes do not advertise it must answer false.
        var volume = await Volumes.CreateAsync("exp-node");
        var response = await Fx.Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 2 * VolumeSize));
        var nodeCaps = await Rpc.CodeOf(async () =>
            await Fx.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest())
        );
        if (nodeCaps == StatusCode.OK)
        {
            var caps = await Fx.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest());
            if (!caps.Capabilities.Any(c => c.Rpc?.Type == NodeServiceCapability.Types.RPC.Types.Type.ExpandVolume))
            {
                Assert.False(response.NodeExpansionRequired);
            }
        }
        else
        {
            // Node plugin not served by this process: the driver's README says expansion is
            // online with no node step; the answer must agree with that design.
            Assert.False(response.NodeExpansionRequired);
        }
    }

    [Fact]
    [Trait("spec", "ControllerExpandVolume")]
    public async Task Expanding_to_a_size_the_volume_already_has_answers_OK_with_its_size()
    {
        // ControllerExpandVolume: "This operation MUST be idempotent. If a volume corresponding to
        // the specified volume ID is already larger than or equal to the target capacity of the
        // expansion request, the plugin SHOULD reply 0 OK."
        var volume = await Volumes.CreateAsync("exp-same", 4 * VolumeSize);
        var same = await Fx.Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, volume.CapacityBytes));
        Assert.Equal(volume.CapacityBytes, same.CapacityBytes);
    }

    [Fact]
    [Trait("spec", "ControllerExpandVolume")]
    public async Task Expanding_to_less_than_the_volume_has_answers_OK_without_shrinking()
    {
        // Same rule as above: the volume is "already larger than ... the target capacity".
        var volume = await Volumes.CreateAsync("exp-smaller", 4 * VolumeSize);
        var smaller = await Fx.Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, VolumeSize));
        Assert.Equal(volume.CapacityBytes, smaller.CapacityBytes);
    }

    [Fact]
    [Trait("spec", "ControllerExpandVolume Errors")]
    public async Task Expanding_beyond_what_the_storage_can_hold_is_OUT_OF_RANGE()
    {
        // ControllerExpandVolume Errors: "Unsupported capacity | 11 OUT_OF_RANGE".
        var volume = await Volumes.CreateAsync("exp-huge");
        await Rpc.FailsWith(
            StatusCode.OutOfRange,
            Fx.Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, 1024L * 1024 * 1024 * 1024 * 1024))
        );
    }

    [Fact]
    [Trait("spec", "ControllerExpandVolume Errors")]
    public async Task A_limit_below_the_current_size_is_OUT_OF_RANGE_and_changes_nothing()
    {
        // The volume cannot be made to fit under limit_bytes without shrinking it.
        var volume = await Volumes.CreateAsync("exp-shrink", 4 * VolumeSize);
        await Rpc.FailsWith(
            StatusCode.OutOfRange,
            Fx.Controller.ControllerExpandVolumeAsync(Expand(volume.VolumeId, VolumeSize, VolumeSize))
        );
        if (Fx.Advertises(ControllerRpc.GetVolume))
        {
            var now = await Fx.Controller.ControllerGetVolumeAsync(
                new ControllerGetVolumeRequest { VolumeId = volume.VolumeId }
            );
            Assert.Equal(volume.CapacityBytes, now.Volume.CapacityBytes);
        }
    }
}
