using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>CSI spec, "GetCapacity" (GET_CAPACITY).</summary>
public sealed class GetCapacityTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    public override Task InitializeAsync()
    {
        Assert.True(Fx.Advertises(ControllerRpc.GetCapacity), "the controller does not advertise GET_CAPACITY");
        return Task.CompletedTask;
    }

    [Fact]
    [Trait("spec", "GetCapacity")]
    public async Task GetCapacity_without_parameters_reports_the_pools_space()
    {
        var capacity = await Fx.Controller.GetCapacityAsync(new GetCapacityRequest());
        // Two mirrors of two disks (128 MiB files on zfs-fuse, 1 GiB disks on the OpenZFS VM).
        var poolBytes = await Storage.PoolUsableBytesAsync(Fx.Pool.Name);
        // available_capacity: "the available capacity of the storage that can be used to provision volumes".
        Assert.InRange(capacity.AvailableCapacity, 1, poolBytes);
        if (capacity.MaximumVolumeSize is { } max)
        {
            Assert.InRange(max, 1, poolBytes);
        }
        if (capacity.MinimumVolumeSize is { } min && capacity.MaximumVolumeSize is { } max2)
        {
            Assert.True(min <= max2, $"minimum_volume_size {min} above maximum_volume_size {max2}");
        }
    }

    [Fact]
    [Trait("spec", "GetCapacity")]
    public async Task GetCapacity_with_a_supported_capability_and_parameters_succeeds()
    {
        var capacity = await Fx.Controller.GetCapacityAsync(
            new GetCapacityRequest
            {
                VolumeCapabilities = { Requests.Mount() },
                Parameters = { ["compression"] = "on" },
            }
        );
        Assert.True(capacity.AvailableCapacity > 0);
    }

    [Fact]
    [Trait("spec", "GetCapacity")]
    public async Task A_volume_of_maximum_volume_size_can_be_created()
    {
        // maximum_volume_size: "the largest size that may be used in a
        // CreateVolumeRequest.capacity_range.required_bytes field to create a volume with the same
        // parameters as those in GetCapacityRequest."
        var capacity = await Fx.Controller.GetCapacityAsync(
            new GetCapacityRequest { VolumeCapabilities = { Requests.Mount() } }
        );
        if (capacity.MaximumVolumeSize is not { } max)
        {
            return;
        }
        var volume = await Volumes.CreateAsync(Requests.Create(Requests.UniqueName("max"), max));
        Assert.True(volume.CapacityBytes >= max);
    }

    [Fact]
    [Trait("spec", "GetCapacity")]
    public async Task GetCapacity_twice_gives_the_same_answer_when_nothing_changed()
    {
        var first = await Fx.Controller.GetCapacityAsync(new GetCapacityRequest());
        var second = await Fx.Controller.GetCapacityAsync(new GetCapacityRequest());
        // ZFS frees space asynchronously after a destroy; allow for a few MiB moving.
        Assert.InRange(
            second.AvailableCapacity,
            first.AvailableCapacity - (4 * Requests.MiB),
            first.AvailableCapacity + (4 * Requests.MiB)
        );
        Assert.Equal(first.MaximumVolumeSize, second.MaximumVolumeSize);
        Assert.Equal(first.MinimumVolumeSize, second.MinimumVolumeSize);
    }
}
