using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>CreateSnapshot, ListSnapshots, GetSnapshot, DeleteSnapshot and volumes made from them, on a real zfs-fuse pool.</summary>
public sealed class SnapshotTests(SnapshotFixture driver) : IClassFixture<SnapshotFixture>
{
    private Csi.V1.Controller.ControllerClient Controller => driver.Controller;

    [Fact]
    public async Task The_controller_advertises_snapshots_listing_cloning_and_get_snapshot()
    {
        var caps = (await Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest()))
            .Capabilities.Select(c => c.Rpc.Type)
            .ToList();
        Assert.Contains(ControllerServiceCapability.Types.RPC.Types.Type.CreateDeleteSnapshot, caps);
        Assert.Contains(ControllerServiceCapability.Types.RPC.Types.Type.ListSnapshots, caps);
        Assert.Contains(ControllerServiceCapability.Types.RPC.Types.Type.CloneVolume, caps);
        Assert.Contains(ControllerServiceCapability.Types.RPC.Types.Type.GetSnapshot, caps);
        var plugin = await driver.Client.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());
        Assert.Contains(plugin.Capabilities, c =>
            c.Service?.Type == PluginCapability.Types.Service.Types.Type.GroupControllerService
        );
    }

    [Fact]
    public async Task A_snapshot_is_ready_with_the_volume_capacity_and_its_creation_time_and_is_found_by_id_and_by_source()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s1"), 16 * MiB);
        var before = DateTimeOffset.UtcNow.AddSeconds(-2);
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-s1"), volume);

        Assert.StartsWith(volume + "@", snapshot.SnapshotId, StringComparison.Ordinal);
        Assert.True(snapshot.ReadyToUse);
        Assert.Equal(16 * MiB, snapshot.SizeBytes);
        Assert.Equal(volume, snapshot.SourceVolumeId);
        Assert.InRange(snapshot.CreationTime.ToDateTimeOffset(), before, DateTimeOffset.UtcNow.AddSeconds(2));

        var byId = await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = snapshot.SnapshotId });
        Assert.Equal(snapshot, Assert.Single(byId.Entries).Snapshot);
        Assert.Equal(snapshot, Assert.Single(await driver.ListSnapshotsAsync(volume)));
        Assert.Contains(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        var got = await Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = snapshot.SnapshotId });
        Assert.Equal(snapshot, got.Snapshot);
    }

    [Fact]
    public async Task Creating_a_snapshot_twice_returns_the_same_snapshot_and_takes_one()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s2"));
        var name = Unique("snapshot-s2");
        var first = await driver.SnapshotAsync(name, volume);
        var second = await driver.SnapshotAsync(name, volume);
        Assert.Equal(first, second);
        Assert.Single(await driver.ListSnapshotsAsync(volume));
    }

    [Fact]
    public async Task The_same_snapshot_name_for_another_volume_is_already_exists()
    {
        var a = await driver.CreateVolumeAsync(Unique("pvc-s3a"));
        var b = await driver.CreateVolumeAsync(Unique("pvc-s3b"));
        var name = Unique("snapshot-s3");
        await driver.SnapshotAsync(name, a);
        Assert.Equal(StatusCode.AlreadyExists, await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync(name, b)));
        Assert.Empty(await driver.ListSnapshotsAsync(b));
    }

    [Fact]
    public async Task A_name_claimed_where_an_earlier_release_kept_claims_stays_held_and_the_sweep_moves_the_claim()
    {
        var a = await driver.CreateVolumeAsync(Unique("pvc-s3c"));
        var b = await driver.CreateVolumeAsync(Unique("pvc-s3d"));
        var name = Unique("snapshot-s3e");
        var snapshot = await driver.SnapshotAsync(name, a);
        var leaf = SnapshotNaming.ClaimLeafFor(name);
        var claim = $"{driver.Pool.Parent}/SnapshotNames/Claims@{leaf}";
        var earlier = $"{driver.Pool.Parent}/SnapshotNames@{leaf}";
        // The pool as a release before the claims moved one level down left it.
        await driver.ZfsLockedAsync(
            "snapshot",
            "-o",
            $"{Markers.CsiName}={Markers.EncodeName(name)}",
            "-o",
            $"{Markers.SnapshotId}={snapshot.SnapshotId}",
            earlier
        );
        await driver.ZfsLockedAsync("destroy", claim);

        Assert.Equal(StatusCode.AlreadyExists, await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync(name, b)));
        Assert.Equal(snapshot, await driver.SnapshotAsync(name, a));

        // A delete asks for a sweep; it claims the name at its place and then drops the earlier claim.
        await driver.DeleteVolumeAsync(await driver.CreateVolumeAsync(Unique("pvc-s3f")));
        Assert.Empty(
            await SnapshotFixture.AfterSweepAsync(async () =>
                (await driver.PoolNamesAsync()).Where(n => n == earlier).ToList()
            )
        );
        Assert.Contains(claim, await driver.PoolNamesAsync());
        Assert.Equal(StatusCode.AlreadyExists, await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync(name, b)));
    }

    [Fact]
    public async Task Data_written_before_a_snapshot_arrives_in_a_larger_restore_and_later_writes_do_not()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s4"), 8 * MiB);
        await driver.WriteAsync(volume, "state.txt", "before");
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-s4"), volume);
        await driver.WriteAsync(volume, "state.txt", "after");

        var restored = await driver.RestoreAsync(Unique("pvc-s4r"), snapshot.SnapshotId, 24 * MiB);

        Assert.Equal(24 * MiB, restored.Volume.CapacityBytes);
        Assert.Equal((24 * MiB).ToString(), await driver.GetPropertyAsync(restored.Volume.VolumeId, "refquota"));
        Assert.Equal(snapshot.SnapshotId, restored.Volume.ContentSource.Snapshot.SnapshotId);
        Assert.Equal("before", await driver.ReadAsync(restored.Volume.VolumeId, "state.txt"));
        Assert.Equal("after", await driver.ReadAsync(volume, "state.txt"));
        await driver.WriteAsync(restored.Volume.VolumeId, "state.txt", "restored and written");
        Assert.Equal("after", await driver.ReadAsync(volume, "state.txt"));
        Assert.Contains(restored.Volume.VolumeId, await driver.ListVolumeIdsAsync());
    }

    [Fact]
    public async Task A_restore_without_a_size_or_with_a_smaller_one_gets_the_snapshot_size_and_a_limit_below_it_is_out_of_range()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s5"), 16 * MiB);
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-s5"), volume);

        var unsized = await driver.RestoreAsync(Unique("pvc-s5a"), snapshot.SnapshotId);
        Assert.Equal(16 * MiB, unsized.Volume.CapacityBytes);
        var smaller = await driver.RestoreAsync(Unique("pvc-s5b"), snapshot.SnapshotId, 4 * MiB);
        Assert.Equal(16 * MiB, smaller.Volume.CapacityBytes);

        var name = Unique("pvc-s5c");
        Assert.Equal(
            StatusCode.OutOfRange,
            await SnapshotFixture.CodeOfAsync(() => driver.RestoreAsync(name, snapshot.SnapshotId, 4 * MiB, 8 * MiB))
        );
        Assert.Empty(await driver.SweptAsync(name));
    }

    [Fact]
    public async Task A_volume_cloned_from_a_volume_has_its_data_returns_its_source_and_lives_on_its_own()
    {
        var source = await driver.CreateVolumeAsync(Unique("pvc-s6"), 8 * MiB);
        await driver.WriteAsync(source, "a.txt", "source data");
        var cloneName = Unique("pvc-s6c");
        var clone = await driver.CloneAsync(cloneName, source, 12 * MiB);

        Assert.Equal(source, clone.Volume.ContentSource.Volume.VolumeId);
        Assert.Equal(12 * MiB, clone.Volume.CapacityBytes);
        Assert.Equal("source data", await driver.ReadAsync(clone.Volume.VolumeId, "a.txt"));
        await driver.WriteAsync(clone.Volume.VolumeId, "a.txt", "clone data");
        Assert.Equal("source data", await driver.ReadAsync(source, "a.txt"));
        // The driver's own snapshot of the source is never a CSI snapshot.
        Assert.Empty(await driver.ListSnapshotsAsync(source));

        var again = await driver.CloneAsync(cloneName, source, 12 * MiB);
        Assert.Equal(clone.Volume, again.Volume);
    }

    [Fact]
    public async Task Bad_snapshot_requests_get_the_spec_codes_and_touch_nothing()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s7"));
        var foreignPool = "otherpool/k8s/pvc-x";
        var malformed = "no/such/../thing";
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync("", volume))
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync(new string('x', 129), volume))
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync("esc\u001b[2J", volume))
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync("nul\0", volume))
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync(Unique("snapshot-s7"), ""))
        );
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync(Unique("snapshot-s7"), malformed))
        );
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(() => driver.SnapshotAsync(Unique("snapshot-s7"), foreignPool))
        );
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(() =>
                driver.SnapshotAsync(Unique("snapshot-s7"), $"{driver.Pool.Parent}/pvc-gone")
            )
        );
        var withParameters = new CreateSnapshotRequest { Name = Unique("snapshot-s7"), SourceVolumeId = volume };
        withParameters.Parameters.Add("compresion", "lz4");
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(async () => await Controller.CreateSnapshotAsync(withParameters))
        );
        Assert.Equal(
            StatusCode.Aborted,
            await SnapshotFixture.CodeOfAsync(async () =>
                await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { StartingToken = "never-issued" })
            )
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(async () =>
                await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { MaxEntries = -1 })
            )
        );

        foreach (
            var id in new[] { malformed, $"{foreignPool}@snap", $"{volume}@gone", $"{volume}@", "@x", $"{volume}@a@b" }
        )
        {
            await driver.DeleteSnapshotAsync(id);
            Assert.Equal(
                StatusCode.NotFound,
                await SnapshotFixture.CodeOfAsync(async () =>
                    await Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = id })
                )
            );
            Assert.Empty((await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = id })).Entries);
            Assert.Equal(
                StatusCode.NotFound,
                await SnapshotFixture.CodeOfAsync(() => driver.RestoreAsync(Unique("pvc-s7r"), id))
            );
        }
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(() => driver.DeleteSnapshotAsync(""))
        );
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(() =>
                driver.CloneAsync(Unique("pvc-s7c"), $"{driver.Pool.Parent}/pvc-gone")
            )
        );
        Assert.Equal("ready", await driver.GetPropertyAsync(volume, "zfs-csi:state"));
        Assert.Empty(await driver.ListSnapshotsAsync(volume));
    }

    [Fact]
    public async Task A_name_full_of_odd_characters_is_mapped_and_still_idempotent()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s8"));
        var name = "snap/../ \t'\"$(rm -rf /)" + Guid.NewGuid();
        var first = await driver.SnapshotAsync(name, volume);
        var second = await driver.SnapshotAsync(name, volume);
        Assert.Equal(first.SnapshotId, second.SnapshotId);
        Assert.Matches("@h-[0-9a-f]{32}$", first.SnapshotId);
        Assert.True(first.SnapshotId.Length <= 128);
    }

    [Fact]
    public async Task Snapshots_of_other_tools_are_never_listed_and_never_block_a_volume_delete()
    {
        var name = Unique("pvc-s9");
        var volume = await driver.CreateVolumeAsync(name);
        await Sh.CheckAsync("zfs", "snapshot", $"{volume}@autosnap_hourly");
        Assert.Empty(await driver.ListSnapshotsAsync(volume));
        Assert.DoesNotContain(await driver.ListSnapshotsAsync(), s =>
            s.SnapshotId.Contains("autosnap", StringComparison.Ordinal)
        );

        // A delete of its id answers OK and leaves it alone: it is not ours.
        await driver.DeleteSnapshotAsync($"{volume}@autosnap_hourly");
        Assert.Contains($"{volume}@autosnap_hourly", await driver.PoolNamesAsync());

        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(name));
    }

    [Fact]
    public async Task Listing_pages_by_max_entries_and_a_token_keeps_working_across_changes()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s10"));
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await driver.SnapshotAsync(Unique($"snapshot-p{i}"), volume)).SnapshotId);
        }
        ids.Sort(StringComparer.Ordinal);

        var seen = new List<string>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await Controller.ListSnapshotsAsync(
                new ListSnapshotsRequest
                {
                    SourceVolumeId = volume,
                    MaxEntries = 2,
                    StartingToken = token,
                }
            );
            Assert.InRange(page.Entries.Count, 1, 2);
            seen.AddRange(page.Entries.Select(e => e.Snapshot.SnapshotId));
            token = page.NextToken;
            pages++;
            if (pages == 1)
            {
                // The token names the last id returned, not a position in a server-side cursor: a
                // snapshot deleted meanwhile changes nothing, and the same token gives the same page.
                await driver.DeleteSnapshotAsync(ids[0]);
                var replay = await Controller.ListSnapshotsAsync(
                    new ListSnapshotsRequest
                    {
                        SourceVolumeId = volume,
                        MaxEntries = 2,
                        StartingToken = token,
                    }
                );
                Assert.Equal(ids.Skip(2).Take(2), replay.Entries.Select(e => e.Snapshot.SnapshotId));
            }
        } while (token != "");
        Assert.Equal(3, pages);
        Assert.Equal(ids, seen);
    }

    [Fact]
    public async Task Deleting_a_snapshot_twice_and_twice_at_once_succeeds_and_leaves_its_volume_alone()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s11"));
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-s11"), volume);

        var results = await Task.WhenAll(
            Enumerable
                .Range(0, 2)
                .Select(async _ =>
                {
                    try
                    {
                        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
                        return StatusCode.OK;
                    }
                    catch (RpcException e)
                    {
                        return e.StatusCode;
                    }
                })
        );
        Assert.All(results, code => Assert.Contains(code, new[] { StatusCode.OK, StatusCode.Aborted }));
        Assert.Contains(StatusCode.OK, results);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);

        Assert.DoesNotContain(snapshot.SnapshotId, await driver.PoolNamesAsync());
        Assert.Contains(volume, await driver.ListVolumeIdsAsync());
        Assert.Equal("yes", await driver.GetPropertyAsync(volume, "mounted"));
    }

    [Fact]
    public async Task Every_form_of_listing_runs_one_zfs_process_and_one_by_source_reads_no_other_volumes_snapshots()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s12"));
        var snapshot = await driver.SnapshotAsync(Unique("snapshot-s12"), volume);
        await driver.Commands.QuietAsync(); // a sweep an earlier test's delete asked for
        foreach (
            var request in new[]
            {
                new ListSnapshotsRequest(),
                new ListSnapshotsRequest { SnapshotId = snapshot.SnapshotId },
                new ListSnapshotsRequest { MaxEntries = 1 },
            }
        )
        {
            var before = Commands().Count;
            var response = await Controller.ListSnapshotsAsync(request);
            Assert.NotEmpty(response.Entries);
            Assert.Single(Commands().Skip(before));
        }

        // By source: the parent's children (no snapshots: where retained copies of this volume id
        // are), then that volume and its own snapshots.
        var start = Commands().Count;
        Assert.NotEmpty(
            (await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SourceVolumeId = volume })).Entries
        );
        var bySource = Commands().Skip(start).ToList();
        Assert.Equal(2, bySource.Count);
        Assert.Contains(bySource, c =>
            c.Contains(" -d 1 ", StringComparison.Ordinal)
            && !c.Contains(" -r ", StringComparison.Ordinal)
            && c.TrimEnd('"').EndsWith(" " + driver.Pool.Parent, StringComparison.Ordinal)
        );
        Assert.Contains(bySource, c =>
            c.Contains(" -r -d 1 ", StringComparison.Ordinal)
            && c.TrimEnd('"').EndsWith(" " + volume, StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task A_page_token_is_honoured_by_a_restarted_driver()
    {
        var volume = await driver.CreateVolumeAsync(Unique("pvc-s13"));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await driver.SnapshotAsync(Unique($"snapshot-r{i}"), volume)).SnapshotId);
        }
        ids.Sort(StringComparer.Ordinal);
        var first = await Controller.ListSnapshotsAsync(
            new ListSnapshotsRequest { SourceVolumeId = volume, MaxEntries = 1 }
        );

        // Another driver process (same flags, fresh memory) continues the listing.
        var socket = $"/tmp/zfs-csi-tests/sock-{Guid.NewGuid():N}.sock";
        var options = ZfsCsi.Driver.Options.DriverOptions.Parse([
            "--endpoint",
            $"unix://{socket}",
            "--parent-dataset",
            driver.Pool.Parent,
            "--mode",
            "controller",
        ]);
        var logger = new Serilog.LoggerConfiguration().CreateLogger();
        var app = ZfsCsi.Driver.Hosting.DriverHost.Build(options, logger);
        await ZfsCsi.Driver.Hosting.DriverHost.PrepareAsync(app, options, CancellationToken.None);
        await app.StartAsync();
        try
        {
            using var client = new CsiClient(socket);
            var rest = await client.Controller.ListSnapshotsAsync(
                new ListSnapshotsRequest { SourceVolumeId = volume, StartingToken = first.NextToken }
            );
            Assert.Equal(ids.Skip(1), rest.Entries.Select(e => e.Snapshot.SnapshotId));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            File.Delete(socket);
        }
    }

    private List<string> Commands() =>
        driver
            .Logs.Events.Where(e =>
                e.MessageTemplate.Text.StartsWith("Command {Argv} exited", StringComparison.Ordinal)
            )
            .Select(e => e.Properties["Argv"].ToString())
            .ToList();
}
