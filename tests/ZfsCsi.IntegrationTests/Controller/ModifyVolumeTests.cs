using Csi.V1;
using Grpc.Core;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;
using RpcType = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.IntegrationTests.Controller;

public sealed class ModifyVolumeFixture : DriverFixture;

/// <summary>
/// ControllerModifyVolume and CreateVolume's mutable_parameters (a VolumeAttributesClass) on a real
/// zfs-fuse pool: the dataset changes online, read back with zfs get.
/// </summary>
public sealed class ModifyVolumeTests(ModifyVolumeFixture driver) : IClassFixture<ModifyVolumeFixture>
{
    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    private async Task<string> CreateAsync(
        long size = 8 * MiB,
        Dictionary<string, string>? parameters = null,
        Dictionary<string, string>? mutable = null,
        string? name = null
    )
    {
        var request = Create(name ?? Unique("pvc-modify"), size, parameters: parameters);
        if (mutable is not null)
        {
            request.MutableParameters.Add(mutable);
        }
        return (await Controller.CreateVolumeAsync(request)).Volume.VolumeId;
    }

    private Task ModifyAsync(string id, Dictionary<string, string> mutable)
    {
        var request = new ControllerModifyVolumeRequest { VolumeId = id };
        request.MutableParameters.Add(mutable);
        return Controller.ControllerModifyVolumeAsync(request).ResponseAsync;
    }

    private async Task<StatusCode> ModifyFailsAsync(string id, Dictionary<string, string> mutable) =>
        (await Assert.ThrowsAsync<RpcException>(() => ModifyAsync(id, mutable))).StatusCode;

    private Task<string> Get(string id, string property) => driver.GetPropertyAsync(id, property);

    private async Task<long> CapacityAsync(string id) =>
        (await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id }))
            .Volume
            .CapacityBytes;

    [Fact]
    public async Task The_controller_advertises_modify_volume()
    {
        var response = await Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());
        Assert.Contains(response.Capabilities, c => c.Rpc.Type == RpcType.ModifyVolume);
    }

    [Fact]
    public async Task Compression_recordsize_atime_and_a_user_property_change_on_a_live_volume_and_a_retry_changes_nothing()
    {
        var id = await CreateAsync(parameters: new() { ["property.checksum"] = "sha256" });
        var mountpoint = await Get(id, "mountpoint");
        await File.WriteAllTextAsync(Path.Combine(mountpoint, "kept"), "data");
        Dictionary<string, string> vac = new()
        {
            ["compression"] = "gzip-2",
            ["recordsize"] = "32K",
            ["atime"] = "off",
            ["property.com.sun:auto-snapshot"] = "false",
            ["property.logbias"] = "throughput",
            ["property.primarycache"] = "metadata",
        };

        await ModifyAsync(id, vac);
        var retry = (await driver.Commands.DuringAsync(() => ModifyAsync(id, vac)))
            .Select(c => string.Join(' ', c.Arguments))
            .ToList();

        Assert.Equal("gzip-2", await Get(id, "compression"));
        Assert.Equal("32768", await Get(id, "recordsize"));
        Assert.Equal("off", await Get(id, "atime"));
        Assert.Equal("false", await Get(id, "com.sun:auto-snapshot"));
        Assert.Equal("throughput", await Get(id, "logbias"));
        Assert.Equal("metadata", await Get(id, "primarycache"));
        Assert.Equal("sha256", await Get(id, "checksum"));
        Assert.Equal("yes", await Get(id, "mounted"));
        Assert.Equal("data", await File.ReadAllTextAsync(Path.Combine(mountpoint, "kept")));
        // The retry: the volume's get, its properties' get, and recordsize (32K reads back as 32768) set again.
        Assert.Equal(1, retry.Count(c => c.StartsWith("set ", StringComparison.Ordinal)));
        Assert.Contains(retry, c => c == $"set recordsize=32K {id}");
    }

    [Fact]
    public async Task Keys_a_later_modify_does_not_name_keep_their_values()
    {
        var id = await CreateAsync();
        await ModifyAsync(id, new() { ["compression"] = "gzip" });
        await ModifyAsync(id, new() { ["atime"] = "off" });
        Assert.Equal("gzip", await Get(id, "compression"));
        Assert.Equal("off", await Get(id, "atime"));
    }

    [Fact]
    public async Task Thin_to_thick_reserves_the_capacity_and_thick_to_thin_releases_it()
    {
        var id = await CreateAsync(16 * MiB);
        await ModifyAsync(id, new() { ["provisioning"] = "thick" });
        Assert.Equal((16 * MiB).ToString(), await Get(id, "refreservation"));
        await ModifyAsync(id, new() { ["provisioning"] = "thick" });
        Assert.Equal((16 * MiB).ToString(), await Get(id, "refreservation"));

        await ModifyAsync(id, new() { ["provisioning"] = "thin" });
        Assert.Equal("0", await Get(id, "refreservation"));
        Assert.Equal(16 * MiB, await CapacityAsync(id));
    }

    [Fact]
    public async Task Thick_where_the_pool_cannot_hold_the_reservation_is_resource_exhausted_and_nothing_changes()
    {
        var available = (await Controller.GetCapacityAsync(new GetCapacityRequest())).AvailableCapacity;
        var holder = await CreateAsync(available / 2, new() { ["provisioning"] = "thick" });
        var id = await CreateAsync(available * 3 / 4);
        try
        {
            var code = await ModifyFailsAsync(id, new() { ["provisioning"] = "thick", ["compression"] = "gzip" });

            Assert.Equal(StatusCode.ResourceExhausted, code);
            Assert.Equal("0", await Get(id, "refreservation"));
            Assert.Equal("off", await Get(id, "compression"));
            Assert.Equal("-", await Get(id, "zfs-csi:mutable"));
        }
        finally
        {
            await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
            await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = holder });
        }
    }

    [Fact]
    public async Task Quota_type_changes_both_ways_keep_the_capacity_exact_and_the_volume_still_expands()
    {
        var id = await CreateAsync(12 * MiB);

        await ModifyAsync(id, new() { ["quotaType"] = "quota" });
        Assert.Equal((12 * MiB).ToString(), await Get(id, "quota"));
        Assert.Equal("0", await Get(id, "refquota"));
        Assert.Equal(12 * MiB, await CapacityAsync(id));

        await Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = id,
                CapacityRange = new CapacityRange { RequiredBytes = 14 * MiB },
            }
        );
        Assert.Equal((14 * MiB).ToString(), await Get(id, "quota"));

        await ModifyAsync(id, new() { ["quotaType"] = "refquota" });
        Assert.Equal((14 * MiB).ToString(), await Get(id, "refquota"));
        Assert.Equal("0", await Get(id, "quota"));
        Assert.Equal(14 * MiB, await CapacityAsync(id));
    }

    [Fact]
    public async Task A_thick_volume_changing_quota_type_moves_its_reservation()
    {
        var id = await CreateAsync(10 * MiB, mutable: new() { ["provisioning"] = "thick" });
        Assert.Equal((10 * MiB).ToString(), await Get(id, "refreservation"));

        await ModifyAsync(id, new() { ["quotaType"] = "quota", ["provisioning"] = "thick" });

        Assert.Equal((10 * MiB).ToString(), await Get(id, "quota"));
        Assert.Equal((10 * MiB).ToString(), await Get(id, "reservation"));
        Assert.Equal("0", await Get(id, "refreservation"));
        Assert.Equal("0", await Get(id, "refquota"));
    }

    [Fact]
    public async Task A_modify_interrupted_between_its_sets_converges_on_the_retry()
    {
        var id = await CreateAsync(8 * MiB);
        // What a crash after the first zfs set of a refquota -> quota change leaves: both quotas, no marker.
        await Sh.CheckAsync("zfs", "set", $"quota={8 * MiB}", id);
        await Sh.CheckAsync("zfs", "set", "atime=off", id);

        await ModifyAsync(
            id,
            new()
            {
                ["quotaType"] = "quota",
                ["atime"] = "off",
                ["compression"] = "gzip",
            }
        );

        Assert.Equal((8 * MiB).ToString(), await Get(id, "quota"));
        Assert.Equal("0", await Get(id, "refquota"));
        Assert.Equal("gzip", await Get(id, "compression"));
        Assert.Equal(8 * MiB, await CapacityAsync(id));
    }

    public static TheoryData<string, Dictionary<string, string>> Refused() =>
        new()
        {
            {
                "unknown key",
                new() { ["iops"] = "3000" }
            },
            {
                "casesensitivity is fixed at creation",
                new() { ["property.casesensitivity"] = "mixed" }
            },
            {
                "utf8only is fixed at creation",
                new() { ["property.utf8only"] = "on" }
            },
            {
                "encryption",
                new() { ["property.encryption"] = "on" }
            },
            {
                "a property the driver manages",
                new() { ["property.refquota"] = "1G" }
            },
            {
                "a bad value",
                new() { ["compression"] = "fastest" }
            },
            {
                "sync: zfs-fuse 0.7 has no such property",
                new() { ["property.sync"] = "always" }
            },
            {
                "recordsize above zfs-fuse's 128K",
                new() { ["recordsize"] = "1M" }
            },
            {
                "another root mode",
                new() { ["rootMode"] = "0700" }
            },
            { "no mutable parameters", new() },
        };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task What_cannot_change_is_invalid_argument_with_the_volume_as_it_was(
        string why,
        Dictionary<string, string> mutable
    )
    {
        var id = await CreateAsync(mutable: new() { ["rootMode"] = "0775" });
        var before = (await Sh.CheckAsync("zfs", "get", "-H", "-p", "-o", "property,value,source", "all", id)).Trim();

        var e = await Assert.ThrowsAsync<RpcException>(() => ModifyAsync(id, mutable));

        Assert.True(e.StatusCode == StatusCode.InvalidArgument, $"{why}: {e.StatusCode} {e.Status.Detail}");
        Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail));
        Assert.Equal(
            before,
            (await Sh.CheckAsync("zfs", "get", "-H", "-p", "-o", "property,value,source", "all", id)).Trim()
        );
    }

    [Fact]
    public async Task A_bad_modify_of_an_unknown_volume_is_invalid_argument_not_not_found()
    {
        Assert.Equal(
            StatusCode.InvalidArgument,
            await ModifyFailsAsync($"{driver.Pool.Parent}/pvc-nope", new() { ["property.casesensitivity"] = "mixed" })
        );
        Assert.Equal(
            StatusCode.NotFound,
            await ModifyFailsAsync($"{driver.Pool.Parent}/pvc-nope", new() { ["compression"] = "on" })
        );
    }

    [Fact]
    public async Task A_deleted_volume_and_one_kept_for_its_snapshot_cannot_be_modified()
    {
        var gone = await CreateAsync();
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = gone });
        Assert.Equal(StatusCode.NotFound, await ModifyFailsAsync(gone, new() { ["compression"] = "gzip" }));

        var kept = await CreateAsync();
        var snapshot = (
            await Controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = Unique("snap-modify"), SourceVolumeId = kept }
            )
        ).Snapshot;
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = kept });
        Assert.Equal("deleted", await Get(kept, "zfs-csi:state"));
        Assert.Equal(StatusCode.NotFound, await ModifyFailsAsync(kept, new() { ["compression"] = "gzip" }));
        Assert.Equal("off", await Get(kept, "compression"));
        await Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId });
    }

    [Fact]
    public async Task Mutable_parameters_at_creation_are_set_by_the_create_itself()
    {
        var id = await CreateAsync(
            parameters: new() { ["atime"] = "off" },
            mutable: new() { ["compression"] = "gzip", ["property.com.sun:auto-snapshot"] = "false" }
        );

        Assert.Equal("gzip", await Get(id, "compression"));
        Assert.Equal("false", await Get(id, "com.sun:auto-snapshot"));
        Assert.Equal("off", await Get(id, "atime"));
        var mine = driver.Commands.Commands.Where(c => c.Arguments.Count > 1 && c.Arguments[^1] == id).ToList();
        var create = Assert.Single(mine, c => c.Arguments[0] == "create");
        Assert.Contains("-o", create.Arguments);
        Assert.Contains("compression=gzip", create.Arguments);
        Assert.DoesNotContain(mine, c =>
            c.Arguments[0] == "set" && c.Arguments[1].StartsWith("compression", StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task A_create_retry_with_the_same_mutable_parameters_is_the_same_volume_and_with_others_already_exists()
    {
        var name = Unique("pvc-modify-retry");
        var id = await CreateAsync(name: name, mutable: new() { ["compression"] = "gzip" });

        Assert.Equal(id, await CreateAsync(name: name, mutable: new() { ["property.compression"] = "gzip" }));
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            CreateAsync(name: name, mutable: new() { ["compression"] = "off" })
        );
        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => CreateAsync(name: name));
        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
    }

    [Fact]
    public async Task The_same_key_as_storage_class_parameter_and_mutable_parameter_gets_the_mutable_value()
    {
        // CSI spec, CreateVolumeRequest.mutable_parameters: "the plugin MUST treat these as if they
        // take precedence over the parameters field". A retry is the same volume.
        var name = Unique("pvc-modify-both");
        var id = await CreateAsync(
            name: name,
            parameters: new() { ["compression"] = "on", ["provisioning"] = "thin" },
            mutable: new() { ["compression"] = "gzip", ["provisioning"] = "thick" }
        );

        Assert.Equal("gzip", await Get(id, "compression"));
        Assert.Equal((8 * MiB).ToString(), await Get(id, "refreservation"));
        Assert.Equal(
            id,
            await CreateAsync(
                name: name,
                parameters: new() { ["compression"] = "on", ["provisioning"] = "thin" },
                mutable: new() { ["compression"] = "gzip", ["provisioning"] = "thick" }
            )
        );
    }
}
