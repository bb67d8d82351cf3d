using System.Text;
using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using static ZfsCsi.Conformance.Infrastructure.Requests;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>CSI spec, "CreateVolume" and "CreateVolume Errors" (CREATE_DELETE_VOLUME).</summary>
public sealed class CreateVolumeTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    public override Task InitializeAsync()
    {
        // Every test here needs CREATE_DELETE_VOLUME; CapabilityTests checks UNIMPLEMENTED without it.
        Assert.True(
            Fx.Advertises(ControllerRpc.CreateDeleteVolume),
            "the controller does not advertise CREATE_DELETE_VOLUME"
        );
        return Task.CompletedTask;
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_without_a_name_is_INVALID_ARGUMENT()
    {
        // CreateVolumeRequest.name: "This field is REQUIRED."
        await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.CreateVolumeAsync(Create("")));
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_without_volume_capabilities_is_INVALID_ARGUMENT()
    {
        // CreateVolumeRequest.volume_capabilities: "This field is REQUIRED."
        var request = Create(UniqueName("nocap"));
        request.VolumeCapabilities.Clear();
        await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_with_a_capability_without_access_mode_is_INVALID_ARGUMENT()
    {
        // VolumeCapability.access_mode: "This field is REQUIRED."
        var request = Create(UniqueName("nomode"));
        request.VolumeCapabilities[0].AccessMode = null;
        await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_with_a_capability_without_access_type_is_INVALID_ARGUMENT()
    {
        // VolumeCapability.access_type: "One of the following fields MUST be specified" (block or mount).
        var request = Create(UniqueName("notype"));
        request.VolumeCapabilities[0].ClearAccessType();
        await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_returns_a_volume_id_within_the_size_limit_and_a_capacity_within_the_range()
    {
        var volume = await Volumes.CreateAsync(Create(UniqueName("range"), VolumeSize, 2 * VolumeSize));
        Assert.False(string.IsNullOrEmpty(volume.VolumeId), "Volume.volume_id is REQUIRED");
        // CSI spec, "Size Limits": a string field is at most 128 bytes.
        Assert.True(
            Encoding.UTF8.GetByteCount(volume.VolumeId) <= 128,
            $"volume_id '{volume.VolumeId}' exceeds 128 bytes"
        );
        // CapacityRange: "at least required_bytes", "at most limit_bytes"; 0 means unknown.
        Assert.InRange(volume.CapacityBytes, VolumeSize, 2 * VolumeSize);
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_with_only_a_limit_gives_a_volume_no_larger_than_the_limit()
    {
        var volume = await Volumes.CreateAsync(Create(UniqueName("limit"), 0, 8 * MiB));
        Assert.InRange(volume.CapacityBytes, 0, 8 * MiB);
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_without_a_capacity_range_succeeds()
    {
        // capacity_range: "This field is OPTIONAL"; the plugin picks the size.
        var volume = await Volumes.CreateAsync(Create(UniqueName("nosize"), 0, 0));
        Assert.False(string.IsNullOrEmpty(volume.VolumeId));
        Assert.True(volume.CapacityBytes >= 0);
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_twice_with_the_same_name_and_request_returns_the_same_volume()
    {
        // CreateVolume: "If a volume corresponding to the specified volume name already exists,
        // is accessible from accessibility_requirements and is compatible with the specified
        // capacity_range, volume_capabilities, parameters and mutable_parameters in the
        // CreateVolumeRequest, the Plugin MUST reply 0 OK with the corresponding CreateVolumeResponse."
        var request = Create(UniqueName("idem"));
        var first = await Volumes.CreateAsync(request);
        var second = await Volumes.CreateAsync(request);
        Assert.Equal(first.VolumeId, second.VolumeId);
        Assert.Equal(first.CapacityBytes, second.CapacityBytes);
        Assert.Equal(first.VolumeContext, second.VolumeContext);
    }

    [Fact]
    [Trait("spec", "CreateVolume Errors")]
    public async Task CreateVolume_with_the_same_name_and_another_capacity_is_ALREADY_EXISTS()
    {
        // CreateVolume Errors: "Volume already exists but is incompatible | 6 ALREADY_EXISTS".
        var name = UniqueName("clash");
        await Volumes.CreateAsync(Create(name, VolumeSize, VolumeSize));
        await Rpc.FailsWith(
            StatusCode.AlreadyExists,
            Fx.Controller.CreateVolumeAsync(Create(name, 2 * VolumeSize, 2 * VolumeSize))
        );
    }

    [Fact]
    [Trait("spec", "CreateVolume Errors")]
    public async Task CreateVolume_with_the_same_name_and_other_parameters_is_ALREADY_EXISTS()
    {
        var name = UniqueName("params");
        await Volumes.CreateAsync(Create(name, parameters: new Dictionary<string, string> { ["compression"] = "on" }));
        await Rpc.FailsWith(
            StatusCode.AlreadyExists,
            Fx.Controller.CreateVolumeAsync(
                Create(name, parameters: new Dictionary<string, string> { ["compression"] = "off" })
            )
        );
    }

    [Fact]
    [Trait("spec", "CreateVolume Errors")]
    public async Task CreateVolume_larger_than_the_storage_can_ever_hold_is_OUT_OF_RANGE()
    {
        // CreateVolume Errors: "Unsupported capacity | 11 OUT_OF_RANGE | Indicates that the
        // capacity range is not allowed by the Plugin". 1 PiB on a 256 MiB pool.
        var request = Create(UniqueName("huge"), 1024L * 1024 * 1024 * 1024 * 1024);
        await Rpc.FailsWith(StatusCode.OutOfRange, Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "CreateVolume Errors")]
    public async Task CreateVolume_with_a_limit_below_the_minimum_volume_size_is_OUT_OF_RANGE()
    {
        // GetCapacity's minimum_volume_size is "the smallest size that may be used in a
        // CreateVolumeRequest.capacity_range.limit_bytes field"; below it the range is unsupported.
        var capacity = await Fx.Controller.GetCapacityAsync(
            new GetCapacityRequest { VolumeCapabilities = { Mount() } }
        );
        var minimum = capacity.MinimumVolumeSize ?? 0;
        if (minimum <= 1)
        {
            // No minimum reported: then a tiny limit must be honoured.
            var tiny = await Volumes.CreateAsync(Create(UniqueName("tiny"), 0, 4096));
            Assert.InRange(tiny.CapacityBytes, 0, 4096);
            return;
        }
        var request = Create(UniqueName("tiny"), 0, minimum - 1);
        await Rpc.FailsWith(StatusCode.OutOfRange, Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_with_a_limit_below_the_required_size_is_rejected_and_makes_nothing()
    {
        // CapacityRange: the volume must be at least required_bytes and at most limit_bytes, so no
        // volume fits; the spec names no code, it must be an error (INVALID_ARGUMENT or OUT_OF_RANGE).
        var name = UniqueName("inverted");
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Fx.Controller.CreateVolumeAsync(Create(name, 2 * VolumeSize, VolumeSize))
        );
        Assert.Contains(e.StatusCode, new[] { StatusCode.InvalidArgument, StatusCode.OutOfRange });
        var again = await Volumes.CreateAsync(Create(name));
        Assert.Equal(VolumeSize, again.CapacityBytes);
    }

    [Fact]
    [Trait("spec", "Size Limits")]
    public async Task CreateVolume_accepts_a_name_of_128_bytes()
    {
        // CSI spec, "Size Limits": "string field: 128 bytes"; a CO may send names that long.
        var name = UniqueName("max");
        name += new string('x', 128 - name.Length);
        var first = await Volumes.CreateAsync(Create(name));
        var second = await Volumes.CreateAsync(Create(name));
        Assert.Equal(first.VolumeId, second.VolumeId);
    }

    [Theory]
    [InlineData("with space")]
    [InlineData("with/slash")]
    [InlineData("with@at")]
    [InlineData("..")]
    [InlineData("Grüße-ünïcödé")]
    [InlineData("-leading-dash")]
    [InlineData("tab\there")]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_accepts_any_unicode_name_and_is_idempotent_on_it(string what)
    {
        // CreateVolumeRequest.name: "Any Unicode string that conforms to the length limit is
        // allowed except those containing the following banned characters: U+0000-U+0008, U+000B,
        // U+000C, U+000E-U+001F, U+007F-U+009F." (TAB is U+0009: allowed.)
        var name = $"{what} {Guid.NewGuid():N}";
        var first = await Volumes.CreateAsync(Create(name));
        var second = await Volumes.CreateAsync(Create(name));
        Assert.Equal(first.VolumeId, second.VolumeId);
        var other = await Volumes.CreateAsync(Create(name + "x"));
        Assert.NotEqual(first.VolumeId, other.VolumeId);
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_with_block_access_is_INVALID_ARGUMENT_for_a_filesystem_only_plugin()
    {
        // The driver serves filesystems only: ValidateVolumeCapabilities never confirms block, and
        // CreateVolume refuses a capability it cannot honour (Error Scheme: INVALID_ARGUMENT).
        var request = Create(UniqueName("block"));
        request.VolumeCapabilities[0] = Block();
        await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "CreateVolume Errors")]
    public async Task CreateVolume_from_a_volume_source_follows_CLONE_VOLUME()
    {
        // CreateVolume Errors: "Source incompatible or not supported | 3 INVALID_ARGUMENT" when the
        // plugin does not clone; with CLONE_VOLUME, "Source does not exist | 5 NOT_FOUND".
        var request = Create(UniqueName("clone-missing"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = $"{Fx.Pool.Parent}/csan-no-such-volume" },
        };
        var expected = Fx.Advertises(ControllerRpc.CloneVolume) ? StatusCode.NotFound : StatusCode.InvalidArgument;
        await Rpc.FailsWith(expected, Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "CreateVolume Errors")]
    public async Task CreateVolume_from_a_snapshot_source_follows_CREATE_DELETE_SNAPSHOT()
    {
        var request = Create(UniqueName("restore-missing"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource
            {
                SnapshotId = $"{Fx.Pool.Parent}/csan-no-such-volume@csan-no-such-snapshot",
            },
        };
        var expected = Fx.Advertises(ControllerRpc.CreateDeleteSnapshot)
            ? StatusCode.NotFound
            : StatusCode.InvalidArgument;
        await Rpc.FailsWith(expected, Fx.Controller.CreateVolumeAsync(request));
    }
}
