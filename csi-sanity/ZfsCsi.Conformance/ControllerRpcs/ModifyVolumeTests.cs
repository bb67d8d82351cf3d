using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using static ZfsCsi.Conformance.Infrastructure.Requests;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>
/// CSI spec, "ControllerModifyVolume" and its errors (MODIFY_VOLUME), and CreateVolume's
/// <c>mutable_parameters</c>: what a Kubernetes VolumeAttributesClass sends. The change is looked
/// for where it happens, on the volume's dataset on the storage host, and through ControllerGetVolume.
/// The keys are zfs-csi's own (README, "Modifying volumes"), with values both zfs-fuse and OpenZFS take.
/// </summary>
public sealed class ModifyVolumeTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    public override Task InitializeAsync()
    {
        // ControllerModifyVolume: "A Controller plugin MUST implement this RPC call if the plugin has
        // the MODIFY_VOLUME controller capability." CapabilityTests checks UNIMPLEMENTED without it.
        Assert.True(Fx.Advertises(ControllerRpc.ModifyVolume), "the controller does not advertise MODIFY_VOLUME");
        return Task.CompletedTask;
    }

    private static ControllerModifyVolumeRequest Modify(string id, Dictionary<string, string> mutable) =>
        new() { VolumeId = id, MutableParameters = { mutable } };

    private Task ModifyAsync(string id, Dictionary<string, string> mutable) =>
        Fx.Controller.ControllerModifyVolumeAsync(Modify(id, mutable)).ResponseAsync;

    private async Task<long> CapacityAsync(string id) =>
        (await Fx.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id }))
            .Volume
            .CapacityBytes;

    [Fact]
    [Trait("spec", "ControllerModifyVolume")]
    public async Task ControllerModifyVolume_without_a_volume_id_is_INVALID_ARGUMENT_and_changes_nothing()
    {
        // ControllerModifyVolumeRequest.volume_id: "This field is REQUIRED."
        await FailsAndTouchesNothing(StatusCode.InvalidArgument, () =>
            Fx.Controller.ControllerModifyVolumeAsync(Modify("", new() { ["compression"] = "gzip" }))
        );
    }

    [Fact]
    [Trait("spec", "ControllerModifyVolume")]
    public async Task ControllerModifyVolume_without_mutable_parameters_is_INVALID_ARGUMENT_and_the_volume_is_unchanged()
    {
        // ControllerModifyVolumeRequest.mutable_parameters: "This field is REQUIRED."
        var volume = await Volumes.CreateAsync("mod-none");
        var before = await Storage.LocalPropertiesAsync(volume.VolumeId);
        await FailsAndTouchesNothing(StatusCode.InvalidArgument, () =>
            Fx.Controller.ControllerModifyVolumeAsync(Modify(volume.VolumeId, []))
        );
        Assert.Equal(before, await Storage.LocalPropertiesAsync(volume.VolumeId));
    }

    [Theory]
    [InlineData("csan-unknown-volume")]
    [InlineData("{parent}/csan-never-made")]
    [Trait("spec", "ControllerModifyVolume Errors")]
    public async Task ControllerModifyVolume_of_an_unknown_volume_is_NOT_FOUND(string id)
    {
        // ControllerModifyVolume Errors: "Volume does not exist | 5 NOT_FOUND".
        await FailsAndTouchesNothing(StatusCode.NotFound, () =>
            Fx.Controller.ControllerModifyVolumeAsync(
                Modify(
                    id.Replace("{parent}", Fx.Pool.Parent, StringComparison.Ordinal),
                    new() { ["compression"] = "gzip" }
                )
            )
        );
    }

    [Theory]
    [InlineData("XXX_FakeKey", "XXX_FakeValue")]
    [InlineData("compression", "fastest")]
    [InlineData("property.casesensitivity", "mixed")]
    [Trait("spec", "ControllerModifyVolume Errors")]
    public async Task A_mutable_parameter_the_volume_cannot_take_is_INVALID_ARGUMENT_and_nothing_else_in_the_request_is_applied(
        string key,
        string value
    )
    {
        // ControllerModifyVolume Errors: "Parameters not supported | 3 INVALID_ARGUMENT | ... invalid
        // mutable parameter keys or values, or the specified volume cannot support the specified
        // parameters. The SP MUST NOT have applied any modification to the volume as part of this
        // specific call." The request also carries changes that alone would be fine. csi-sanity sends
        // XXX_FakeKey; casesensitivity is a ZFS property only the dataset's creation sets.
        var volume = await Volumes.CreateAsync("mod-bad");
        var before = await Storage.LocalPropertiesAsync(volume.VolumeId);
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ControllerModifyVolumeAsync(
                Modify(
                    volume.VolumeId,
                    new()
                    {
                        ["atime"] = "off",
                        [key] = value,
                        ["provisioning"] = "thick",
                    }
                )
            )
        );
        Assert.Equal(before, await Storage.LocalPropertiesAsync(volume.VolumeId));
    }

    [Fact]
    [Trait("spec", "ControllerModifyVolume")]
    public async Task ControllerModifyVolume_changes_a_live_volume_which_keeps_its_data_and_capacity()
    {
        // "This RPC allows the CO to change mutable key attributes of a volume." The volume stays
        // where it is, with what it holds.
        var volume = await Volumes.CreateAsync("mod-live");
        await Storage.WriteAsync(volume.VolumeId, "kept", "before the modify");

        await ModifyAsync(
            volume.VolumeId,
            new()
            {
                ["compression"] = "gzip",
                ["recordsize"] = "64K",
                ["atime"] = "off",
                ["property.com.sun:auto-snapshot"] = "false",
            }
        );

        Assert.Equal("gzip", await Storage.PropertyAsync(volume.VolumeId, "compression"));
        Assert.Equal((64 * 1024).ToString(), await Storage.PropertyAsync(volume.VolumeId, "recordsize"));
        Assert.Equal("off", await Storage.PropertyAsync(volume.VolumeId, "atime"));
        Assert.Equal("false", await Storage.PropertyAsync(volume.VolumeId, "com.sun:auto-snapshot"));
        Assert.Equal("yes", await Storage.PropertyAsync(volume.VolumeId, "mounted"));
        Assert.Equal("before the modify", await Storage.ReadAsync(volume.VolumeId, "kept"));
        Assert.Equal(volume.CapacityBytes, await CapacityAsync(volume.VolumeId));
    }

    [Fact]
    [Trait("spec", "ControllerModifyVolume")]
    public async Task A_repeated_modify_answers_OK_and_changes_nothing_more()
    {
        // ControllerModifyVolume: "This operation MUST be idempotent."
        var volume = await Volumes.CreateAsync("mod-again");
        Dictionary<string, string> vac = new()
        {
            ["compression"] = "gzip",
            ["atime"] = "off",
            ["provisioning"] = "thick",
        };
        await ModifyAsync(volume.VolumeId, vac);
        var after = await Storage.LocalPropertiesAsync(volume.VolumeId);

        await ModifyAsync(volume.VolumeId, vac);

        Assert.Equal(after, await Storage.LocalPropertiesAsync(volume.VolumeId));
        Assert.Equal(volume.CapacityBytes, await CapacityAsync(volume.VolumeId));
    }

    [Fact]
    [Trait("spec", "ControllerModifyVolume")]
    public async Task Keys_a_modify_does_not_name_are_left_as_they_are()
    {
        // ControllerModifyVolumeRequest.mutable_parameters: "SPs MUST NOT modify volumes based on the
        // absence of keys, only keys that are specified should result in modifications to the volume."
        var volume = await Volumes.CreateAsync("mod-absent");
        await ModifyAsync(volume.VolumeId, new() { ["compression"] = "gzip" });
        await ModifyAsync(volume.VolumeId, new() { ["atime"] = "off" });

        Assert.Equal("gzip", await Storage.PropertyAsync(volume.VolumeId, "compression"));
        Assert.Equal("off", await Storage.PropertyAsync(volume.VolumeId, "atime"));
    }

    [Fact]
    [Trait("spec", "ControllerModifyVolume")]
    public async Task Provisioning_and_quota_type_change_online_and_the_capacity_stays_exact()
    {
        // zfs-csi's capacity keys: thick reserves the capacity, quotaType moves it between refquota
        // and quota. ControllerGetVolume reports the same capacity_bytes throughout.
        var volume = await Volumes.CreateAsync("mod-capacity", 2 * VolumeSize);
        var bytes = volume.CapacityBytes.ToString();

        await ModifyAsync(volume.VolumeId, new() { ["provisioning"] = "thick" });
        Assert.Equal(bytes, await Storage.PropertyAsync(volume.VolumeId, "refreservation"));

        await ModifyAsync(volume.VolumeId, new() { ["quotaType"] = "quota", ["provisioning"] = "thick" });
        Assert.Equal(bytes, await Storage.PropertyAsync(volume.VolumeId, "quota"));
        Assert.Equal(bytes, await Storage.PropertyAsync(volume.VolumeId, "reservation"));
        Assert.Equal("0", await Storage.PropertyAsync(volume.VolumeId, "refquota"));
        Assert.Equal("0", await Storage.PropertyAsync(volume.VolumeId, "refreservation"));
        Assert.Equal(volume.CapacityBytes, await CapacityAsync(volume.VolumeId));

        await ModifyAsync(volume.VolumeId, new() { ["quotaType"] = "refquota", ["provisioning"] = "thin" });
        Assert.Equal(bytes, await Storage.PropertyAsync(volume.VolumeId, "refquota"));
        Assert.Equal("0", await Storage.PropertyAsync(volume.VolumeId, "quota"));
        Assert.Equal("0", await Storage.PropertyAsync(volume.VolumeId, "reservation"));
        Assert.Equal(volume.CapacityBytes, await CapacityAsync(volume.VolumeId));
    }

    [Fact]
    [Trait("spec", "CreateVolume")]
    public async Task CreateVolume_applies_mutable_parameters_and_a_retry_with_the_same_ones_is_the_same_volume()
    {
        // CreateVolumeRequest.mutable_parameters: "Plugin specific creation-time parameters ... These
        // mutable_parameteres MAY also be changed during the lifetime of the volume via a subsequent
        // ControllerModifyVolume RPC." CreateVolume: "This operation MUST be idempotent."
        var request = Create(UniqueName("mod-create"));
        request.MutableParameters.Add(new Dictionary<string, string> { ["compression"] = "gzip", ["atime"] = "off" });
        var volume = await Volumes.CreateAsync(request);

        Assert.Equal("gzip", await Storage.PropertyAsync(volume.VolumeId, "compression"));
        Assert.Equal("off", await Storage.PropertyAsync(volume.VolumeId, "atime"));
        Assert.Equal(volume, await Volumes.CreateAsync(request));

        // csi-sanity's "should modify a volume created with a volume attribute class": the same class again.
        await ModifyAsync(volume.VolumeId, new() { ["compression"] = "gzip", ["atime"] = "off" });
        await ModifyAsync(volume.VolumeId, new() { ["compression"] = "off" });
        Assert.Equal("off", await Storage.PropertyAsync(volume.VolumeId, "compression"));
        Assert.Equal("off", await Storage.PropertyAsync(volume.VolumeId, "atime"));
    }

    [Fact]
    [Trait("spec", "CreateVolume Errors")]
    public async Task CreateVolume_with_a_mutable_parameter_the_plugin_does_not_support_is_INVALID_ARGUMENT_and_makes_nothing()
    {
        // csi-sanity's "should not create volume with an invalid volume attribute class".
        var request = Create(UniqueName("mod-create-bad"));
        request.MutableParameters.Add("XXX_FakeKey", "XXX_FakeValue");
        await FailsAndTouchesNothing(StatusCode.InvalidArgument, () => Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "ControllerModifyVolume Errors")]
    public async Task A_deleted_volume_and_one_kept_only_for_its_snapshots_are_NOT_FOUND()
    {
        // "Volume does not exist | 5 NOT_FOUND": after DeleteVolume answered OK the volume does not
        // exist for the CO, whatever the plugin still keeps for its snapshots.
        var gone = await Volumes.CreateAsync("mod-gone");
        await Fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = gone.VolumeId });
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.ControllerModifyVolumeAsync(Modify(gone.VolumeId, new() { ["compression"] = "gzip" }))
        );
        if (!Fx.Advertises(ControllerRpc.CreateDeleteSnapshot))
        {
            return;
        }

        var kept = await Volumes.CreateAsync("mod-kept");
        await Volumes.SnapshotAsync(kept.VolumeId);
        var code = await Rpc.CodeOf(async () =>
            await Fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = kept.VolumeId })
        );
        Assert.Contains(code, new[] { StatusCode.OK, StatusCode.FailedPrecondition });
        if (code == StatusCode.FailedPrecondition)
        {
            return;
        }
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.ControllerModifyVolumeAsync(Modify(kept.VolumeId, new() { ["compression"] = "gzip" }))
        );
    }
}
