using Csi.V1;
using Grpc.Core;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>Volume group snapshots on zfs-fuse: one atomic <c>zfs snapshot -r</c>, members ordinary restorable snapshots.</summary>
public sealed class GroupSnapshotTests(SnapshotFixture driver) : IClassFixture<SnapshotFixture>
{
    private GroupController.GroupControllerClient Groups => driver.Client.GroupController;

    private static CreateVolumeGroupSnapshotRequest Request(string name, params string[] volumes)
    {
        var request = new CreateVolumeGroupSnapshotRequest { Name = name };
        request.SourceVolumeIds.Add(volumes);
        return request;
    }

    [Fact]
    public async Task Deleting_a_group_also_removes_the_temporary_a_crashed_create_left_on_every_dataset()
    {
        var va = await driver.CreateVolumeAsync(Unique("pvc-gt"));
        var group = (
            await Groups.CreateVolumeGroupSnapshotAsync(Request(Unique("groupsnapshot-tmp"), va))
        ).GroupSnapshot;
        // What a crash between `zfs snapshot -r parent@Tmp-<leaf>` and its cleanup leaves behind.
        var leaf = group.GroupSnapshotId[(group.GroupSnapshotId.IndexOf('@') + 1)..];
        var parent = group.GroupSnapshotId[..group.GroupSnapshotId.IndexOf('@')];
        await Infrastructure.Sh.CheckAsync("zfs", "snapshot", "-r", $"{parent}@Tmp-{leaf}");
        Assert.Contains(await driver.PoolNamesAsync(), n => n.Contains("@Tmp-", StringComparison.Ordinal));

        var delete = new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
        delete.SnapshotIds.Add(group.Snapshots.Select(x => x.SnapshotId));
        await Groups.DeleteVolumeGroupSnapshotAsync(delete);

        Assert.DoesNotContain(await driver.PoolNamesAsync(), n =>
            n.Contains("@Tmp-", StringComparison.Ordinal) || n.Contains(leaf, StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task The_group_controller_advertises_group_snapshots()
    {
        var caps = await Groups.GroupControllerGetCapabilitiesAsync(new GroupControllerGetCapabilitiesRequest());
        Assert.Contains(caps.Capabilities, c =>
            c.Rpc.Type == GroupControllerServiceCapability.Types.RPC.Types.Type.CreateDeleteGetVolumeGroupSnapshot
        );
    }

    [Fact]
    public async Task A_group_snapshot_takes_every_member_at_one_instant_in_one_command_and_each_member_restores_on_its_own()
    {
        var (a, b, other) = (Unique("pvc-ga"), Unique("pvc-gb"), Unique("pvc-gx"));
        var va = await driver.CreateVolumeAsync(a);
        var vb = await driver.CreateVolumeAsync(b);
        var vx = await driver.CreateVolumeAsync(other);
        await driver.WriteAsync(va, "f", "a at t0");
        await driver.WriteAsync(vb, "f", "b at t0");
        var name = Unique("groupsnapshot-g1");
        var commandsBefore = SnapshotCommands().Count;

        var group = (await Groups.CreateVolumeGroupSnapshotAsync(Request(name, va, vb))).GroupSnapshot;
        await driver.WriteAsync(va, "f", "a later");

        Assert.True(group.ReadyToUse);
        Assert.Equal(2, group.Snapshots.Count);
        Assert.Equal([va, vb], group.Snapshots.Select(s => s.SourceVolumeId).Order(StringComparer.Ordinal));
        Assert.All(group.Snapshots, s => Assert.Equal(group.GroupSnapshotId, s.GroupSnapshotId));
        Assert.Single(group.Snapshots.Select(s => s.CreationTime).Distinct());
        // Crash consistency: one successful zfs snapshot command for the whole group. zfs-fuse refuses
        // several names (usage error, nothing made), so the driver learns that and uses -r of the parent.
        var taken = Assert.Single(SnapshotCommands().Skip(commandsBefore), c =>
            c.Contains(" snapshot ", StringComparison.Ordinal)
        );
        Assert.Contains(" snapshot -r ", taken, StringComparison.Ordinal);
        var creations = await Task.WhenAll(
            group.Snapshots.Select(s => driver.GetPropertyAsync(s.SnapshotId, "creation"))
        );
        Assert.Single(creations.Distinct());
        // Nothing of the group on a volume outside it, and no temporary snapshot left.
        Assert.DoesNotContain(await driver.PoolNamesAsync(), n =>
            n.StartsWith(vx + "@", StringComparison.Ordinal) || n.Contains("@Tmp-", StringComparison.Ordinal)
        );

        var listed = await driver.ListSnapshotsAsync();
        Assert.All(group.Snapshots, s => Assert.Contains(s, listed));

        var again = (await Groups.CreateVolumeGroupSnapshotAsync(Request(name, va, vb))).GroupSnapshot;
        Assert.Equal(group, again);
        var got = new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
        got.SnapshotIds.Add(group.Snapshots.Select(s => s.SnapshotId));
        Assert.Equal(group, (await Groups.GetVolumeGroupSnapshotAsync(got)).GroupSnapshot);

        var memberA = group.Snapshots.Single(s => s.SourceVolumeId == va);
        var restored = await driver.RestoreAsync(Unique("pvc-gar"), memberA.SnapshotId);
        Assert.Equal("a at t0", await driver.ReadAsync(restored.Volume.VolumeId, "f"));

        var delete = new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
        delete.SnapshotIds.Add(group.Snapshots.Select(s => s.SnapshotId));
        await Groups.DeleteVolumeGroupSnapshotAsync(delete);
        await Groups.DeleteVolumeGroupSnapshotAsync(delete);
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(async () => await Groups.GetVolumeGroupSnapshotAsync(got))
        );
        Assert.Equal("a at t0", await driver.ReadAsync(restored.Volume.VolumeId, "f"));
        await driver.DeleteVolumeAsync(restored.Volume.VolumeId);
        await driver.DeleteVolumeAsync(va);
        await driver.DeleteVolumeAsync(vb);
        Assert.Empty(await driver.SweptAsync(a, b));
    }

    [Fact]
    public async Task Duplicate_missing_or_conflicting_members_get_the_spec_codes_and_leave_nothing()
    {
        var (a, b) = (Unique("pvc-gc"), Unique("pvc-gd"));
        var va = await driver.CreateVolumeAsync(a);
        var vb = await driver.CreateVolumeAsync(b);
        var name = Unique("groupsnapshot-g2");

        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(async () =>
                await Groups.CreateVolumeGroupSnapshotAsync(Request(name, va, va))
            )
        );
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(async () =>
                await Groups.CreateVolumeGroupSnapshotAsync(Request(name, va, $"{driver.Pool.Parent}/pvc-gone"))
            )
        );
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(async () =>
                await Groups.CreateVolumeGroupSnapshotAsync(Request(name, va, "not/ours"))
            )
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(async () => await Groups.CreateVolumeGroupSnapshotAsync(Request(name)))
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(async () => await Groups.CreateVolumeGroupSnapshotAsync(Request("", va)))
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(async () =>
                await Groups.CreateVolumeGroupSnapshotAsync(Request("group\u0007bell", va))
            )
        );
        Assert.DoesNotContain(await driver.LeftoversAsync(a, b), n => n.Contains('@'));
        Assert.DoesNotContain(await driver.PoolNamesAsync(), n => n.Contains("@Tmp-", StringComparison.Ordinal));

        var group = (await Groups.CreateVolumeGroupSnapshotAsync(Request(name, va))).GroupSnapshot;
        Assert.Equal(
            StatusCode.AlreadyExists,
            await SnapshotFixture.CodeOfAsync(async () =>
                await Groups.CreateVolumeGroupSnapshotAsync(Request(name, va, vb))
            )
        );

        var wrong = new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
        wrong.SnapshotIds.Add($"{vb}@nope");
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(async () => await Groups.GetVolumeGroupSnapshotAsync(wrong))
        );
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(async () =>
                await Groups.GetVolumeGroupSnapshotAsync(
                    new GetVolumeGroupSnapshotRequest { GroupSnapshotId = "other/pool@g-0" }
                )
            )
        );
        await Groups.DeleteVolumeGroupSnapshotAsync(
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = "other/pool@g-0" }
        );
        var stranger = new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
        stranger.SnapshotIds.Add([.. group.Snapshots.Select(m => m.SnapshotId), $"{vb}@snapshot-not-a-member"]);
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(async () => await Groups.DeleteVolumeGroupSnapshotAsync(stranger))
        );
        Assert.Single(
            (
                await Groups.GetVolumeGroupSnapshotAsync(
                    new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }
                )
            )
                .GroupSnapshot
                .Snapshots
        );

        var delete = new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
        delete.SnapshotIds.Add(group.Snapshots.Select(m => m.SnapshotId));
        await Groups.DeleteVolumeGroupSnapshotAsync(delete);
        await Groups.DeleteVolumeGroupSnapshotAsync(delete); // a retry naming members already gone
        await driver.DeleteVolumeAsync(va);
        await driver.DeleteVolumeAsync(vb);
        Assert.Empty(await driver.SweptAsync(a, b));
    }

    [Fact]
    public async Task A_volume_deleted_while_its_group_member_exists_is_retained_until_the_group_goes()
    {
        var (a, b) = (Unique("pvc-ge"), Unique("pvc-gf"));
        var va = await driver.CreateVolumeAsync(a);
        var vb = await driver.CreateVolumeAsync(b);
        var group = (
            await Groups.CreateVolumeGroupSnapshotAsync(Request(Unique("groupsnapshot-g3"), va, vb))
        ).GroupSnapshot;
        await driver.DeleteVolumeAsync(va);
        await driver.DeleteVolumeAsync(vb);
        Assert.Equal(
            2,
            (
                await Groups.GetVolumeGroupSnapshotAsync(
                    new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }
                )
            )
                .GroupSnapshot
                .Snapshots
                .Count
        );
        await Groups.DeleteVolumeGroupSnapshotAsync(
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }
        );
        Assert.Empty(await driver.SweptAsync(a, b));
    }

    [Fact]
    public async Task A_member_keeps_the_size_its_volume_had_when_the_group_was_taken_after_the_volume_grows()
    {
        var (a, b) = (Unique("pvc-gs1"), Unique("pvc-gs2"));
        var va = await driver.CreateVolumeAsync(a, 8 * MiB);
        var vb = await driver.CreateVolumeAsync(b, 12 * MiB);
        var group = (
            await Groups.CreateVolumeGroupSnapshotAsync(Request(Unique("groupsnapshot-gs"), va, vb))
        ).GroupSnapshot;

        await driver.Client.Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = va,
                CapacityRange = new Csi.V1.CapacityRange { RequiredBytes = 20 * MiB },
            }
        );

        var members = (
            await Groups.GetVolumeGroupSnapshotAsync(
                new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }
            )
        )
            .GroupSnapshot
            .Snapshots;
        Assert.Equal(8 * MiB, members.Single(m => m.SourceVolumeId == va).SizeBytes);
        Assert.Equal(12 * MiB, members.Single(m => m.SourceVolumeId == vb).SizeBytes);
        // A restore at the member's own size and limit is what the member promises.
        var restored = await driver.RestoreAsync(
            Unique("pvc-gs1r"),
            members.Single(m => m.SourceVolumeId == va).SnapshotId,
            8 * MiB,
            8 * MiB
        );
        Assert.Equal(8 * MiB, restored.Volume.CapacityBytes);
    }

    [Fact]
    public async Task A_group_snapshot_taken_while_a_writer_updates_both_volumes_in_turn_is_crash_consistent()
    {
        // The writer puts counter i into A, then i into B, forever: at every instant A holds B or B+1.
        // Snapshots taken one after the other would catch B ahead of A; one atomic snapshot never does.
        var va = await driver.CreateVolumeAsync(Unique("pvc-gw-a"));
        var vb = await driver.CreateVolumeAsync(Unique("pvc-gw-b"));
        var paths = await Task.WhenAll(
            new[] { va, vb }.Select(async v => Path.Combine(await driver.GetPropertyAsync(v, "mountpoint"), "counter"))
        );
        using var stop = new CancellationTokenSource();
        long written = 0;
        var writer = Task.Run(async () =>
        {
            await using var a = new FileStream(paths[0], FileMode.Create, FileAccess.Write, FileShare.Read, 1);
            await using var b = new FileStream(paths[1], FileMode.Create, FileAccess.Write, FileShare.Read, 1);
            for (long i = 1; !stop.IsCancellationRequested; i++)
            {
                foreach (var file in new[] { a, b })
                {
                    // Fixed width, written in place by one write(2): never a torn or empty value.
                    file.Position = 0;
                    await file.WriteAsync(System.Text.Encoding.ASCII.GetBytes(i.ToString("D19") + "\n"));
                    await file.FlushAsync();
                }
                Interlocked.Exchange(ref written, i);
            }
        });
        try
        {
            while (Interlocked.Read(ref written) < 50)
            {
                await Task.Delay(10);
            }
            var group = (
                await Groups.CreateVolumeGroupSnapshotAsync(Request(Unique("groupsnapshot-gw"), va, vb))
            ).GroupSnapshot;
            await Task.Delay(100);
            stop.Cancel();
            await writer;

            var counters = new Dictionary<string, long>();
            foreach (var member in group.Snapshots)
            {
                var restored = (await driver.RestoreAsync(Unique("pvc-gwr"), member.SnapshotId)).Volume.VolumeId;
                counters[member.SourceVolumeId] = long.Parse((await driver.ReadAsync(restored, "counter")).Trim());
            }
            Assert.True(counters[vb] > 0, "the writer was running when the group was taken");
            Assert.InRange(counters[va] - counters[vb], 0, 1);
            Assert.True(Interlocked.Read(ref written) > counters[va], "the writer went on after the snapshot");
        }
        finally
        {
            stop.Cancel();
            await writer;
        }
    }

    private List<string> SnapshotCommands() =>
        driver
            .Logs.Events.Where(e =>
                e.MessageTemplate.Text.StartsWith("Command {Argv} exited", StringComparison.Ordinal)
                && e.Properties["ExitCode"].ToString() == "0"
            )
            .Select(e => e.Properties["Argv"].ToString())
            .Where(a =>
                a.Contains(" snapshot ", StringComparison.Ordinal)
                || a.Contains(" destroy ", StringComparison.Ordinal)
                || a.Contains(" rename ", StringComparison.Ordinal)
            )
            .ToList();
}
