using Csi.V1;
using Grpc.Core;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>A volume's whole life on a real zfs-fuse pool: create, expand, list, get, delete.</summary>
public sealed class VolumeLifecycleTests(ControllerFixture driver) : IClassFixture<ControllerFixture>
{
    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    [Fact]
    public async Task A_created_volume_is_a_dataset_under_the_parent_with_its_quota_and_markers()
    {
        var name = Unique("pvc-life");
        var response = await Controller.CreateVolumeAsync(Create(name, 16 * MiB));

        Assert.Equal($"{driver.Pool.Parent}/{name}", response.Volume.VolumeId);
        Assert.Equal(16 * MiB, response.Volume.CapacityBytes);
        Assert.Equal((16 * MiB).ToString(), await driver.GetPropertyAsync(response.Volume.VolumeId, "refquota"));
        Assert.Equal("ready", await driver.GetPropertyAsync(response.Volume.VolumeId, "zfs-csi:state"));
        Assert.Equal("yes", await driver.GetPropertyAsync(response.Volume.VolumeId, "mounted"));
        var mountpoint = await driver.GetPropertyAsync(response.Volume.VolumeId, "mountpoint");
        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(mountpoint) & (UnixFileMode)0xFFF);
    }

    [Fact]
    public async Task Create_expand_list_get_and_delete_walk_one_volume_through_its_life()
    {
        var name = Unique("pvc-walk");
        var id = (await Controller.CreateVolumeAsync(Create(name, 8 * MiB))).Volume.VolumeId;

        var expanded = await Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = id,
                CapacityRange = new CapacityRange { RequiredBytes = 32 * MiB },
            }
        );
        Assert.Equal(32 * MiB, expanded.CapacityBytes);
        Assert.False(expanded.NodeExpansionRequired);
        Assert.Equal((32 * MiB).ToString(), await driver.GetPropertyAsync(id, "refquota"));

        var listed = await Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.Contains(listed.Entries, e => e.Volume.VolumeId == id && e.Volume.CapacityBytes == 32 * MiB);

        var got = await Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = id });
        Assert.Equal(32 * MiB, got.Volume.CapacityBytes);

        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        Assert.DoesNotContain(id, await driver.ChildDatasetsAsync());
        var again = await Controller.ListVolumesAsync(new ListVolumesRequest());
        Assert.DoesNotContain(again.Entries, e => e.Volume.VolumeId == id);
    }

    [Fact]
    public async Task A_repeated_create_returns_the_same_volume_and_makes_no_second_dataset()
    {
        var name = Unique("pvc-idem");
        var first = await Controller.CreateVolumeAsync(Create(name, 8 * MiB));
        var second = await Controller.CreateVolumeAsync(Create(name, 8 * MiB));

        Assert.Equal(first.Volume, second.Volume);
        Assert.Single(await driver.ChildDatasetsAsync(), d => d == first.Volume.VolumeId);
    }

    [Fact]
    public async Task Deleting_twice_succeeds_both_times()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-del2")))).Volume.VolumeId;
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        Assert.DoesNotContain(id, await driver.ChildDatasetsAsync());
    }

    [Fact]
    public async Task Probe_is_ready_when_the_pool_is_imported()
    {
        var probe = await driver.Client.Identity.ProbeAsync(new ProbeRequest());
        Assert.True(probe.Ready);
    }

    [Fact]
    public async Task Every_rpc_logs_one_event_with_method_ids_duration_and_status()
    {
        var name = Unique("pvc-log");
        await Controller.CreateVolumeAsync(Create(name));
        var events = driver
            .Logs.Events.Where(e =>
                e.MessageTemplate.Text.StartsWith("RPC ", StringComparison.Ordinal)
                && e.Properties.TryGetValue("Method", out var m)
                && m.ToString().Contains("CreateVolume", StringComparison.Ordinal)
                && e.Properties["Ids"].ToString().Contains(name, StringComparison.Ordinal)
            )
            .ToList();
        var single = Assert.Single(events);
        Assert.True(single.Properties.ContainsKey("DurationMs"));
        Assert.Equal("OK", single.Properties["StatusCode"].ToString());
    }

    [Fact]
    public async Task Every_external_command_logs_one_event_with_argv_duration_and_exit_code()
    {
        var name = Unique("pvc-cmdlog");
        await Controller.CreateVolumeAsync(Create(name));
        var creates = driver
            .Logs.Events.Where(e =>
                e.MessageTemplate.Text.StartsWith("Command ", StringComparison.Ordinal)
                && e.Properties["Argv"].ToString().Contains($"create", StringComparison.Ordinal)
                && e.Properties["Argv"].ToString().Contains(name, StringComparison.Ordinal)
            )
            .ToList();
        var single = Assert.Single(creates);
        Assert.Equal("0", single.Properties["ExitCode"].ToString());
        Assert.True(single.Properties.ContainsKey("DurationMs"));
    }

    [Fact]
    public async Task A_volume_of_another_name_never_shares_a_dataset()
    {
        var a = await Controller.CreateVolumeAsync(Create(Unique("pvc-a")));
        var b = await Controller.CreateVolumeAsync(Create(Unique("pvc-b")));
        Assert.NotEqual(a.Volume.VolumeId, b.Volume.VolumeId);
    }

    [Fact]
    public async Task The_server_answers_a_client_that_sends_authority_localhost_over_the_unix_socket()
    {
        // CsiClient sends exactly what grpc-go sends on a unix socket: h2c, :authority localhost.
        var info = await driver.Client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        Assert.Equal("zfs.csi.dev", info.Name);
        Assert.False(string.IsNullOrEmpty(info.VendorVersion));
    }

    [Fact]
    public async Task An_unknown_rpc_answers_unimplemented_not_unknown()
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Controller.ControllerPublishVolumeAsync(
                new ControllerPublishVolumeRequest { VolumeId = "x", NodeId = "n" }
            )
        );
        Assert.Equal(StatusCode.Unimplemented, e.StatusCode);
    }
}
