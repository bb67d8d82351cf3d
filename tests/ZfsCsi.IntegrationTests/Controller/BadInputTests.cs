using Csi.V1;
using Grpc.Core;
using static ZfsCsi.IntegrationTests.Controller.Requests;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>
/// Bad input on a real pool: each request gets the CSI spec's code and a message a person can act
/// on, and the pool is exactly as it was before (no dataset created or destroyed).
/// </summary>
public sealed class BadInputTests(ControllerFixture driver) : IClassFixture<ControllerFixture>
{
    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    private async Task<RpcException> FailsAndTouchesNothing(Func<Task> call, StatusCode expected)
    {
        var before = await driver.AllDatasetsAsync();
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(expected, e.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail), "the error must say what is wrong");
        Assert.Equal(before, await driver.AllDatasetsAsync());
        return e;
    }

    [Fact]
    public async Task A_missing_name_is_invalid_argument()
    {
        var e = await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(Create("")),
            StatusCode.InvalidArgument
        );
        Assert.Contains("name", e.Status.Detail);
    }

    [Fact]
    public async Task A_300_byte_name_is_invalid_argument()
    {
        var e = await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(Create(new string('a', 300))),
            StatusCode.InvalidArgument
        );
        Assert.Contains("128", e.Status.Detail);
    }

    [Fact]
    public async Task No_capability_is_invalid_argument()
    {
        var request = Create(Unique("pvc-nocap"));
        request.VolumeCapabilities.Clear();
        await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(request),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task Block_access_is_invalid_argument()
    {
        var request = Create(Unique("pvc-block"));
        request.VolumeCapabilities.Clear();
        request.VolumeCapabilities.Add(Block());
        var e = await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(request),
            StatusCode.InvalidArgument
        );
        Assert.Contains("block", e.Status.Detail);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    public async Task An_unknown_or_missing_access_mode_is_invalid_argument(int mode)
    {
        var request = Create(Unique("pvc-mode"));
        request.VolumeCapabilities[0].AccessMode.Mode = (Mode)mode;
        await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(request),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task A_capability_without_access_mode_is_invalid_argument()
    {
        var request = Create(Unique("pvc-noam"));
        request.VolumeCapabilities[0].AccessMode = null;
        await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(request),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task A_limit_below_required_is_invalid_argument()
    {
        await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(Create(Unique("pvc-lim"), 8 * MiB, 4 * MiB)),
            StatusCode.InvalidArgument
        );
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    public async Task Negative_capacity_is_invalid_argument(long required, long limit)
    {
        await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(Create(Unique("pvc-neg"), required, limit)),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task More_than_the_pool_can_hold_is_out_of_range()
    {
        var e = await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(Create(Unique("pvc-huge"), 1L << 50)),
            StatusCode.OutOfRange
        );
        Assert.Contains(driver.Pool.Name, e.Status.Detail);
    }

    [Fact]
    public async Task A_limit_below_the_smallest_volume_is_out_of_range()
    {
        await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(Create(Unique("pvc-tiny"), 1, 4096)),
            StatusCode.OutOfRange
        );
    }

    [Fact]
    public async Task An_unknown_storage_class_parameter_is_invalid_argument_and_names_the_key()
    {
        var e = await FailsAndTouchesNothing(
            async () =>
                await Controller.CreateVolumeAsync(
                    Create(Unique("pvc-param"), parameters: new Dictionary<string, string> { ["compresion"] = "on" })
                ),
            StatusCode.InvalidArgument
        );
        Assert.Contains("compresion", e.Status.Detail);
    }

    [Theory]
    [InlineData("recordsize", "3")]
    [InlineData("compression", "snappy")]
    [InlineData("atime", "maybe")]
    [InlineData("quotaType", "refreservation")]
    [InlineData("provisioning", "fat")]
    [InlineData("property.mountpoint", "/etc")]
    [InlineData("property.logbias", "bad value")]
    [InlineData("property.used", "1")]
    [InlineData("property.creation", "0")]
    [InlineData("property.sharenfs", "on")]
    [InlineData("property.sharesmb", "on")]
    [InlineData("property.Bad Name", "x")]
    [InlineData("rootMode", "0999")]
    public async Task A_malformed_parameter_value_is_invalid_argument(string key, string value)
    {
        await FailsAndTouchesNothing(
            async () =>
                await Controller.CreateVolumeAsync(
                    Create(Unique("pvc-bad"), parameters: new Dictionary<string, string> { [key] = value })
                ),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task A_property_value_zfs_refuses_is_invalid_argument_and_creates_nothing()
    {
        // Passes our syntax check; ZFS itself refuses it inside the one atomic create.
        var e = await FailsAndTouchesNothing(
            async () =>
                await Controller.CreateVolumeAsync(
                    Create(
                        Unique("pvc-zbad"),
                        parameters: new Dictionary<string, string> { ["property.logbias"] = "sideways" }
                    )
                ),
            StatusCode.InvalidArgument
        );
        Assert.Contains("logbias", e.Status.Detail);
    }

    [Fact]
    public async Task Kubernetes_own_parameters_are_accepted()
    {
        var response = await Controller.CreateVolumeAsync(
            Create(
                Unique("pvc-k8s"),
                parameters: new Dictionary<string, string>
                {
                    ["csi.storage.k8s.io/pvc/name"] = "claim",
                    ["csi.storage.k8s.io/pvc/namespace"] = "default",
                    ["csi.storage.k8s.io/pv/name"] = "pvc-123",
                }
            )
        );
        Assert.NotEmpty(response.Volume.VolumeId);
    }

    public static TheoryData<string> ForeignIds(string pool) =>
        [
            "../../etc",
            "/etc/passwd",
            pool,
            $"{pool}/other",
            $"{pool}/other/vol",
            "otherpool/k8s/vol",
            $"{pool}/k8s",
            $"{pool}/k8s/a/b",
            $"{pool}/k8s/..",
            $"{pool}/k8s/-rf",
            $"{pool}/k8s/x;rm",
            $"{pool}/k8s/x@snap",
            $"{pool}/k8s/{new string('a', 200)}",
            $"{pool}/k8s/does-not-exist",
        ];

    [Fact]
    public async Task Delete_of_a_foreign_malformed_or_missing_id_succeeds_and_touches_nothing()
    {
        foreach (var id in ForeignIds(driver.Pool.Name))
        {
            var before = await driver.AllDatasetsAsync();
            await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
            Assert.Equal(before, await driver.AllDatasetsAsync());
        }
    }

    [Fact]
    public async Task Expand_get_and_validate_of_a_foreign_malformed_or_missing_id_are_not_found()
    {
        foreach (var id in ForeignIds(driver.Pool.Name))
        {
            await FailsAndTouchesNothing(
                async () =>
                    await Controller.ControllerExpandVolumeAsync(
                        new ControllerExpandVolumeRequest
                        {
                            VolumeId = id,
                            CapacityRange = new CapacityRange { RequiredBytes = 64 * MiB },
                        }
                    ),
                StatusCode.NotFound
            );
            await FailsAndTouchesNothing(
                async () => await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id }),
                StatusCode.NotFound
            );
            var validate = new ValidateVolumeCapabilitiesRequest { VolumeId = id };
            validate.VolumeCapabilities.Add(Mount());
            await FailsAndTouchesNothing(
                async () => await Controller.ValidateVolumeCapabilitiesAsync(validate),
                StatusCode.NotFound
            );
        }
    }

    [Fact]
    public async Task An_empty_volume_id_is_invalid_argument_everywhere()
    {
        await FailsAndTouchesNothing(
            async () => await Controller.DeleteVolumeAsync(new DeleteVolumeRequest()),
            StatusCode.InvalidArgument
        );
        await FailsAndTouchesNothing(
            async () =>
                await Controller.ControllerExpandVolumeAsync(
                    new ControllerExpandVolumeRequest { CapacityRange = new CapacityRange { RequiredBytes = MiB } }
                ),
            StatusCode.InvalidArgument
        );
        await FailsAndTouchesNothing(
            async () => await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest()),
            StatusCode.InvalidArgument
        );
        var validate = new ValidateVolumeCapabilitiesRequest();
        validate.VolumeCapabilities.Add(Mount());
        await FailsAndTouchesNothing(
            async () => await Controller.ValidateVolumeCapabilitiesAsync(validate),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task A_dataset_under_the_parent_that_zfs_csi_did_not_create_is_never_destroyed()
    {
        var foreign = $"{driver.Pool.Parent}/handmade";
        await Infrastructure.TestPool.WithMountLockAsync(() => Infrastructure.Sh.CheckAsync("zfs", "create", foreign));
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = foreign });
        Assert.Contains(foreign, await driver.AllDatasetsAsync());
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Controller.CreateVolumeAsync(Create("handmade"))
        );
        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        Assert.Contains("not created by zfs-csi", e.Status.Detail);
    }

    [Fact]
    public async Task Expanding_to_less_changes_nothing_and_a_limit_below_the_current_size_is_out_of_range()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-shrink"), 16 * MiB))).Volume.VolumeId;
        // CSI spec, ControllerExpandVolume: a volume already at least the target size SHOULD answer OK.
        var smaller = await Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = id,
                CapacityRange = new CapacityRange { RequiredBytes = 8 * MiB },
            }
        );
        Assert.Equal(16 * MiB, smaller.CapacityBytes);
        Assert.Equal((16 * MiB).ToString(), await driver.GetPropertyAsync(id, "refquota"));
        var same = await Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = id,
                CapacityRange = new CapacityRange { RequiredBytes = 16 * MiB },
            }
        );
        Assert.Equal(16 * MiB, same.CapacityBytes);
        var onlyLimit = await Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = id,
                CapacityRange = new CapacityRange { LimitBytes = 64 * MiB },
            }
        );
        Assert.Equal(16 * MiB, onlyLimit.CapacityBytes);
        await FailsAndTouchesNothing(
            async () =>
                await Controller.ControllerExpandVolumeAsync(
                    new ControllerExpandVolumeRequest
                    {
                        VolumeId = id,
                        CapacityRange = new CapacityRange { LimitBytes = 8 * MiB },
                    }
                ),
            StatusCode.OutOfRange
        );
    }

    [Fact]
    public async Task Expansion_without_a_capacity_range_is_invalid_argument()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-norange")))).Volume.VolumeId;
        await FailsAndTouchesNothing(
            async () =>
                await Controller.ControllerExpandVolumeAsync(new ControllerExpandVolumeRequest { VolumeId = id }),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task The_same_name_with_another_capacity_or_other_parameters_is_already_exists()
    {
        var name = Unique("pvc-conflict");
        await Controller.CreateVolumeAsync(Create(name, 8 * MiB));
        await FailsAndTouchesNothing(
            async () => await Controller.CreateVolumeAsync(Create(name, 32 * MiB)),
            StatusCode.AlreadyExists
        );
        await FailsAndTouchesNothing(
            async () =>
                await Controller.CreateVolumeAsync(
                    Create(name, 8 * MiB, parameters: new Dictionary<string, string> { ["atime"] = "off" })
                ),
            StatusCode.AlreadyExists
        );
    }

    [Fact]
    public async Task A_page_token_that_was_never_issued_is_aborted()
    {
        var e = await FailsAndTouchesNothing(
            async () => await Controller.ListVolumesAsync(new ListVolumesRequest { StartingToken = "never-issued" }),
            StatusCode.Aborted
        );
        Assert.Contains("token", e.Status.Detail);
    }

    [Fact]
    public async Task A_negative_max_entries_is_invalid_argument()
    {
        await FailsAndTouchesNothing(
            async () => await Controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = -1 }),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task Validate_confirms_mount_capabilities_and_declines_block_with_a_reason()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-validate")))).Volume.VolumeId;
        var ok = new ValidateVolumeCapabilitiesRequest { VolumeId = id };
        ok.VolumeCapabilities.Add(Mount(Mode.MultiNodeMultiWriter));
        Assert.NotNull((await Controller.ValidateVolumeCapabilitiesAsync(ok)).Confirmed);

        var block = new ValidateVolumeCapabilitiesRequest { VolumeId = id };
        block.VolumeCapabilities.Add(Block());
        var declined = await Controller.ValidateVolumeCapabilitiesAsync(block);
        Assert.Null(declined.Confirmed);
        Assert.Contains("block", declined.Message);

        var none = new ValidateVolumeCapabilitiesRequest { VolumeId = id };
        await FailsAndTouchesNothing(
            async () => await Controller.ValidateVolumeCapabilitiesAsync(none),
            StatusCode.InvalidArgument
        );
    }

    [Fact]
    public async Task GetCapacity_checks_parameters_and_reports_the_pool()
    {
        await FailsAndTouchesNothing(
            async () =>
                await Controller.GetCapacityAsync(new GetCapacityRequest { Parameters = { ["nonsense"] = "1" } }),
            StatusCode.InvalidArgument
        );
        var capacity = await Controller.GetCapacityAsync(new GetCapacityRequest());
        Assert.True(capacity.AvailableCapacity > 0);
        Assert.True(capacity.MaximumVolumeSize >= capacity.AvailableCapacity);
    }

    [Fact]
    public async Task GetCapacity_for_block_access_is_zero_and_for_a_capability_without_a_mode_is_invalid()
    {
        var block = new VolumeCapability
        {
            Block = new VolumeCapability.Types.BlockVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode
            {
                Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter,
            },
        };
        var noMode = new VolumeCapability { Mount = new VolumeCapability.Types.MountVolume() };

        Assert.Equal(
            0,
            (
                await Controller.GetCapacityAsync(new GetCapacityRequest { VolumeCapabilities = { block } })
            ).AvailableCapacity
        );
        await FailsAndTouchesNothing(
            async () => await Controller.GetCapacityAsync(new GetCapacityRequest { VolumeCapabilities = { noMode } }),
            StatusCode.InvalidArgument
        );
    }
}
