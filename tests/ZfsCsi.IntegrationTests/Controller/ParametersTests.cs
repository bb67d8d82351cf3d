using Csi.V1;
using Grpc.Core;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.IntegrationTests.Controller;

public sealed class ParametersFixture : DriverFixture;

/// <summary>StorageClass parameters reach ZFS as properties set by the one create.</summary>
public sealed class ParametersTests(ParametersFixture driver) : IClassFixture<ParametersFixture>
{
    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    private async Task<string> CreateAsync(long size, Dictionary<string, string> parameters) =>
        (await Controller.CreateVolumeAsync(Create(Unique("pvc-param"), size, parameters: parameters))).Volume.VolumeId;

    [Fact]
    public async Task Encryption_on_zfs_fuse_is_INVALID_ARGUMENT_naming_OpenZFS_and_makes_nothing()
    {
        var before = await driver.ChildDatasetsAsync();
        var request = Create(
            Unique("pvc-enc"),
            8 * MiB,
            parameters: new Dictionary<string, string> { ["encryption"] = "on" }
        );
        request.Secrets.Add("encryptionKey", "correct horse battery staple");

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await Controller.CreateVolumeAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        // Asked of the pool itself (zpool get feature@encryption), which zfs-fuse's version 23 lacks.
        Assert.Contains("encryption needs OpenZFS", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("Nothing was made", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await driver.ChildDatasetsAsync());
        Assert.False(
            Directory.Exists(Path.Combine(ZfsCsi.Core.Volumes.VolumeOptions.DefaultKeyDirectory, driver.Pool.Parent)),
            "a key file directory was made for a volume that was refused"
        );
    }

    [Fact]
    public async Task By_default_capacity_is_a_refquota_and_nothing_is_reserved()
    {
        var id = await CreateAsync(8 * MiB, []);
        Assert.Equal((8 * MiB).ToString(), await driver.GetPropertyAsync(id, "refquota"));
        Assert.Equal("0", await driver.GetPropertyAsync(id, "refreservation"));
        Assert.Equal("0", await driver.GetPropertyAsync(id, "quota"));
    }

    [Fact]
    public async Task Quota_type_quota_counts_snapshots_against_the_volume()
    {
        var id = await CreateAsync(8 * MiB, new() { ["quotaType"] = "quota" });
        Assert.Equal((8 * MiB).ToString(), await driver.GetPropertyAsync(id, "quota"));
        Assert.Equal("0", await driver.GetPropertyAsync(id, "refquota"));

        var expanded = await Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = id,
                CapacityRange = new CapacityRange { RequiredBytes = 12 * MiB },
            }
        );
        Assert.Equal(12 * MiB, expanded.CapacityBytes);
        Assert.Equal((12 * MiB).ToString(), await driver.GetPropertyAsync(id, "quota"));
    }

    [Fact]
    public async Task Thick_provisioning_reserves_the_capacity_and_grows_the_reservation_on_expand()
    {
        var id = await CreateAsync(8 * MiB, new() { ["provisioning"] = "thick" });
        Assert.Equal((8 * MiB).ToString(), await driver.GetPropertyAsync(id, "refreservation"));
        await Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = id,
                CapacityRange = new CapacityRange { RequiredBytes = 10 * MiB },
            }
        );
        Assert.Equal((10 * MiB).ToString(), await driver.GetPropertyAsync(id, "refreservation"));
        Assert.Equal((10 * MiB).ToString(), await driver.GetPropertyAsync(id, "refquota"));
    }

    [Fact]
    public async Task A_thick_expansion_the_pool_cannot_reserve_is_resource_exhausted_and_changes_nothing()
    {
        var available = (await Controller.GetCapacityAsync(new GetCapacityRequest())).AvailableCapacity;
        var id = await CreateAsync(8 * MiB, new() { ["provisioning"] = "thick" });
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Controller.ControllerExpandVolumeAsync(
                new ControllerExpandVolumeRequest
                {
                    VolumeId = id,
                    CapacityRange = new CapacityRange { RequiredBytes = available + 8 * MiB },
                }
            )
        );
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal((8 * MiB).ToString(), await driver.GetPropertyAsync(id, "refquota"));
        Assert.Equal((8 * MiB).ToString(), await driver.GetPropertyAsync(id, "refreservation"));
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
    }

    [Fact]
    public async Task A_thick_volume_the_pool_cannot_reserve_is_resource_exhausted_and_not_created()
    {
        var available = (await Controller.GetCapacityAsync(new GetCapacityRequest())).AvailableCapacity;
        var before = await driver.AllDatasetsAsync();
        // Fits in the pool's total size (so not OUT_OF_RANGE), but not in what is free now.
        var first = await CreateAsync(available / 2, new() { ["provisioning"] = "thick" });
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await CreateAsync(available * 3 / 4, new() { ["provisioning"] = "thick" })
        );
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal(before.Append(first).Order(StringComparer.Ordinal), await driver.AllDatasetsAsync());
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = first });
    }

    [Fact]
    public async Task Zfs_properties_and_the_property_prefix_are_set_locally_on_the_dataset()
    {
        var id = await CreateAsync(
            8 * MiB,
            new()
            {
                ["compression"] = "gzip-3",
                ["recordsize"] = "64K",
                ["atime"] = "off",
                ["property.com.sun:auto-snapshot"] = "false",
                ["property.checksum"] = "sha256",
            }
        );
        Assert.Equal("gzip-3", await driver.GetPropertyAsync(id, "compression"));
        Assert.Equal("65536", await driver.GetPropertyAsync(id, "recordsize"));
        Assert.Equal("off", await driver.GetPropertyAsync(id, "atime"));
        Assert.Equal("false", await driver.GetPropertyAsync(id, "com.sun:auto-snapshot"));
        Assert.Equal("sha256", await driver.GetPropertyAsync(id, "checksum"));
        var source = (await Sh.CheckAsync("zfs", "get", "-H", "-o", "source", "checksum", id)).Trim();
        Assert.Equal("local", source);
    }

    [Fact]
    public async Task The_root_directory_gets_the_storage_class_mode_and_owner()
    {
        var id = await CreateAsync(
            8 * MiB,
            new()
            {
                ["rootMode"] = "2770",
                ["rootUid"] = "1234",
                ["rootGid"] = "2345",
            }
        );
        var mountpoint = await driver.GetPropertyAsync(id, "mountpoint");
        var stat = (await Sh.CheckAsync("stat", "-c", "%a %u %g", mountpoint)).Trim();
        Assert.Equal("2770 1234 2345", stat);
    }

    [Theory]
    [InlineData(Mode.SingleNodeWriter)]
    [InlineData(Mode.SingleNodeReaderOnly)]
    [InlineData(Mode.MultiNodeReaderOnly)]
    [InlineData(Mode.MultiNodeSingleWriter)]
    [InlineData(Mode.MultiNodeMultiWriter)]
    [InlineData(Mode.SingleNodeSingleWriter)]
    [InlineData(Mode.SingleNodeMultiWriter)]
    public async Task Every_access_mode_for_mounted_volumes_is_served(Mode mode)
    {
        var request = Create(Unique("pvc-mode"));
        request.VolumeCapabilities.Clear();
        request.VolumeCapabilities.Add(Mount(mode));
        var response = await Controller.CreateVolumeAsync(request);
        Assert.NotEmpty(response.Volume.VolumeId);
    }

    [Fact]
    public async Task A_request_without_capacity_gets_the_default_size()
    {
        var request = Create(Unique("pvc-default"));
        request.CapacityRange = null;
        var response = await Controller.CreateVolumeAsync(request);
        var pool = (await Controller.GetCapacityAsync(new GetCapacityRequest())).MaximumVolumeSize;
        // 1 GiB, or the whole pool when it is smaller (test pools are).
        Assert.Equal(Math.Min(1L << 30, pool!.Value), response.Volume.CapacityBytes);
    }

    [Fact]
    public async Task A_tiny_request_is_rounded_up_to_a_usable_volume()
    {
        var id = await CreateAsync(1, []);
        Assert.Equal(MiB.ToString(), await driver.GetPropertyAsync(id, "refquota"));
        var mountpoint = await driver.GetPropertyAsync(id, "mountpoint");
        await File.WriteAllBytesAsync(Path.Combine(mountpoint, "data"), new byte[64 * 1024]);
    }
}
