using System.Diagnostics;
using Csi.V1;
using Grpc.Core;
using Xunit.Abstractions;
using static ZfsCsi.IntegrationTests.Controller.Requests;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>
/// Read-only views (issue 13, part 2) on the real pool: a ReadOnlyMany restore of a snapshot is a
/// read-only clone marked as a view, made in one command, holding nothing of its own, and its
/// lifetime is independent of its snapshot's in either order.
/// </summary>
public sealed class ViewTests(SnapshotFixture driver, ITestOutputHelper output) : IClassFixture<SnapshotFixture>
{
    private const string ViewKey = "zfs.csi.dev/view";

    private static CreateVolumeRequest View(
        string name,
        string snapshotId,
        long bytes = 0,
        Mode mode = Mode.MultiNodeReaderOnly,
        IDictionary<string, string>? parameters = null
    )
    {
        var request = Create(name, bytes, parameters: parameters);
        request.VolumeCapabilities[0].AccessMode.Mode = mode;
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshotId },
        };
        return request;
    }

    /// <summary>A volume with a file, its snapshot, and the file changed after it: a view must show the snapshot's content.</summary>
    private async Task<(string Volume, Csi.V1.Snapshot Snapshot)> SnapshottedAsync(string v, string s)
    {
        var volume = await driver.CreateVolumeAsync(v, 16 * MiB);
        await driver.WriteAsync(volume, "f", "at the snapshot");
        var snapshot = await driver.SnapshotAsync(s, volume);
        await driver.WriteAsync(volume, "f", "after the snapshot");
        return (volume, snapshot);
    }

    [Fact]
    public async Task A_reader_only_restore_is_a_read_only_view_of_the_snapshot_that_holds_no_space_of_its_own()
    {
        var (v, w) = (Unique("pvc-v1"), Unique("pvc-v1w"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v1"));

        var watch = Stopwatch.StartNew();
        var view = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume;
        output.WriteLine($"view made in {watch.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal("true", view.VolumeContext[ViewKey]);
        Assert.Equal(snapshot.SnapshotId, view.ContentSource.Snapshot.SnapshotId);
        Assert.Equal(snapshot.SizeBytes, view.CapacityBytes);
        Assert.Equal("on", await driver.GetPropertyAsync(view.VolumeId, "zfs-csi:view"));
        Assert.Equal(snapshot.SnapshotId, await driver.GetPropertyAsync(view.VolumeId, "origin"));
        Assert.Equal("at the snapshot", await driver.ReadAsync(view.VolumeId, "f"));
        Assert.Equal("after the snapshot", await driver.ReadAsync(volume, "f"));
        var used = long.Parse(
            await Infrastructure.Sh.CheckAsync("zfs", "get", "-H", "-p", "-o", "value", "used", view.VolumeId)
        );
        output.WriteLine($"view uses {used} bytes");
        Assert.InRange(used, 0, 256 * 1024);

        var mountpoint = await driver.GetPropertyAsync(view.VolumeId, "mountpoint");
        var write = await Infrastructure.Sh.RunAsync("sh", "-c", "echo x > \"$1/g\"", "sh", mountpoint);
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains("Read-only file system", write.StandardError, StringComparison.Ordinal);

        var got = (await driver.Controller.ControllerGetVolumeAsync(new() { VolumeId = view.VolumeId })).Volume;
        Assert.Equal("true", got.VolumeContext[ViewKey]);
        var listed = (await driver.Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.Single(e =>
            e.Volume.VolumeId == view.VolumeId
        );
        Assert.Equal("true", listed.Volume.VolumeContext[ViewKey]);
        Assert.Equal(snapshot.SnapshotId, listed.Volume.ContentSource.Snapshot.SnapshotId);

        await driver.DeleteVolumeAsync(view.VolumeId);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, w));
    }

    [Fact]
    public async Task A_retry_answers_the_same_view_and_the_same_name_for_another_source_or_as_a_clone_is_already_exists()
    {
        var (v, w) = (Unique("pvc-v2"), Unique("pvc-v2w"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v2"));
        var other = await driver.SnapshotAsync(Unique("snapshot-v2b"), volume);

        var first = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume;
        var again = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume;
        Assert.Equal(first, again);

        Assert.Equal(
            StatusCode.AlreadyExists,
            await SnapshotFixture.CodeOfAsync(() =>
                driver.Controller.CreateVolumeAsync(View(w, other.SnapshotId)).ResponseAsync
            )
        );
        Assert.Equal(
            StatusCode.AlreadyExists,
            await SnapshotFixture.CodeOfAsync(() =>
                driver
                    .Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId, mode: Mode.MultiNodeMultiWriter))
                    .ResponseAsync
            )
        );
        Assert.Equal("at the snapshot", await driver.ReadAsync(first.VolumeId, "f"));

        await driver.DeleteVolumeAsync(first.VolumeId);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteSnapshotAsync(other.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, w));
    }

    [Fact]
    public async Task Deleting_a_view_leaves_its_snapshot_listed_and_restorable()
    {
        var (v, w, r) = (Unique("pvc-v3"), Unique("pvc-v3w"), Unique("pvc-v3r"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v3"));
        var view = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume.VolumeId;

        await driver.DeleteVolumeAsync(view);
        await driver.DeleteVolumeAsync(view); // a retry is OK too

        Assert.Empty(await driver.LeftoversAsync(w));
        Assert.Contains(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        var restored = (await driver.RestoreAsync(r, snapshot.SnapshotId)).Volume.VolumeId;
        Assert.Equal("at the snapshot", await driver.ReadAsync(restored, "f"));

        await driver.DeleteVolumeAsync(restored);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, w, r));
    }

    [Fact]
    public async Task A_snapshot_deleted_while_it_has_a_view_is_hidden_and_goes_with_its_last_view()
    {
        var (v, w) = (Unique("pvc-v4"), Unique("pvc-v4w"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v4"));
        var view = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume.VolumeId;

        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);

        Assert.DoesNotContain(await driver.ListSnapshotsAsync(), s => s.SnapshotId == snapshot.SnapshotId);
        Assert.Equal(
            StatusCode.NotFound,
            await SnapshotFixture.CodeOfAsync(() =>
                driver.Controller.CreateVolumeAsync(View(Unique("pvc-v4x"), snapshot.SnapshotId)).ResponseAsync
            )
        );
        Assert.Equal("on", await driver.GetPropertyAsync(snapshot.SnapshotId, "defer_destroy"));
        Assert.Equal("at the snapshot", await driver.ReadAsync(view, "f"));

        await driver.DeleteVolumeAsync(view);
        Assert.Empty(
            await SnapshotFixture.AfterSweepAsync(async () =>
                (await driver.LeftoversAsync(v)).Where(n => n.Contains('@')).ToList()
            )
        );
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, w));
    }

    [Fact]
    public async Task A_source_volume_deleted_before_its_view_is_kept_until_the_view_goes()
    {
        var (v, w) = (Unique("pvc-v5"), Unique("pvc-v5w"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v5"));
        var view = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume.VolumeId;

        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume);

        Assert.DoesNotContain(volume, await driver.ListVolumeIdsAsync());
        Assert.Equal("at the snapshot", await driver.ReadAsync(view, "f"));
        await driver.DeleteVolumeAsync(view);
        Assert.Empty(await driver.SweptAsync(v, w));
    }

    [Fact]
    public async Task Expanding_a_view_is_out_of_range_and_its_own_size_is_ok()
    {
        var (v, w) = (Unique("pvc-v6"), Unique("pvc-v6w"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v6"));
        var view = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume;

        Assert.Equal(
            StatusCode.OutOfRange,
            await SnapshotFixture.CodeOfAsync(() =>
                driver
                    .Controller.ControllerExpandVolumeAsync(
                        new ControllerExpandVolumeRequest
                        {
                            VolumeId = view.VolumeId,
                            CapacityRange = new CapacityRange { RequiredBytes = view.CapacityBytes * 2 },
                        }
                    )
                    .ResponseAsync
            )
        );
        Assert.Equal(view.CapacityBytes.ToString(), await driver.GetPropertyAsync(view.VolumeId, "refquota"));
        var same = await driver.Controller.ControllerExpandVolumeAsync(
            new ControllerExpandVolumeRequest
            {
                VolumeId = view.VolumeId,
                CapacityRange = new CapacityRange { RequiredBytes = view.CapacityBytes },
            }
        );
        Assert.Equal(view.CapacityBytes, same.CapacityBytes);

        await driver.DeleteVolumeAsync(view.VolumeId);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, w));
    }

    [Fact]
    public async Task A_view_demanded_larger_than_its_snapshot_or_with_a_writer_mode_is_refused_and_auto_makes_a_clone_instead()
    {
        var (v, w) = (Unique("pvc-v7"), Unique("pvc-v7w"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v7"));

        Assert.Equal(
            StatusCode.OutOfRange,
            await SnapshotFixture.CodeOfAsync(() =>
                driver
                    .Controller.CreateVolumeAsync(
                        View(
                            w,
                            snapshot.SnapshotId,
                            bytes: 2 * snapshot.SizeBytes,
                            parameters: new Dictionary<string, string> { ["view"] = "always" }
                        )
                    )
                    .ResponseAsync
            )
        );
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(() =>
                driver
                    .Controller.CreateVolumeAsync(
                        View(
                            w,
                            snapshot.SnapshotId,
                            mode: Mode.SingleNodeWriter,
                            parameters: new Dictionary<string, string> { ["view"] = "always" }
                        )
                    )
                    .ResponseAsync
            )
        );
        Assert.Empty(await driver.LeftoversAsync(w));

        // view: auto and more than the snapshot holds: a clone of that size, as before views.
        var larger = (
            await driver.Controller.CreateVolumeAsync(
                View(Unique("pvc-v7l"), snapshot.SnapshotId, bytes: 2 * snapshot.SizeBytes)
            )
        ).Volume;
        Assert.False(larger.VolumeContext.ContainsKey(ViewKey));
        Assert.Equal(2 * snapshot.SizeBytes, larger.CapacityBytes);
        Assert.Equal("at the snapshot", await driver.ReadAsync(larger.VolumeId, "f"));
        await driver.DeleteVolumeAsync(larger.VolumeId);

        // view: never restores a reader-only request as a writable clone, as before views.
        var clone = (
            await driver.Controller.CreateVolumeAsync(
                View(w, snapshot.SnapshotId, parameters: new Dictionary<string, string> { ["view"] = "never" })
            )
        ).Volume;
        Assert.False(clone.VolumeContext.ContainsKey(ViewKey));
        await driver.WriteAsync(clone.VolumeId, "g", "writable");

        await driver.DeleteVolumeAsync(clone.VolumeId);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, w));
    }

    [Fact]
    public async Task A_reader_only_retry_whose_name_holds_a_clone_is_answered_with_the_clone_unless_a_view_is_demanded()
    {
        var (v, w) = (Unique("pvc-v9"), Unique("pvc-v9w"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v9"));
        var clone = (
            await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId, mode: Mode.MultiNodeMultiWriter))
        ).Volume;

        var again = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume;
        Assert.Equal(clone.VolumeId, again.VolumeId);
        Assert.False(again.VolumeContext.ContainsKey(ViewKey));

        await driver.DeleteVolumeAsync(clone.VolumeId);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, w));
    }

    [Fact]
    public async Task A_modify_cannot_make_a_view_writable()
    {
        var (v, w) = (Unique("pvc-v8"), Unique("pvc-v8w"));
        var (volume, snapshot) = await SnapshottedAsync(v, Unique("snapshot-v8"));
        var view = (await driver.Controller.CreateVolumeAsync(View(w, snapshot.SnapshotId))).Volume.VolumeId;

        var modify = new ControllerModifyVolumeRequest { VolumeId = view };
        modify.MutableParameters.Add("property.readonly", "off");
        Assert.Equal(
            StatusCode.InvalidArgument,
            await SnapshotFixture.CodeOfAsync(() => driver.Controller.ControllerModifyVolumeAsync(modify).ResponseAsync)
        );
        var mountpoint = await driver.GetPropertyAsync(view, "mountpoint");
        var write = await Infrastructure.Sh.RunAsync("touch", $"{mountpoint}/g");
        Assert.NotEqual(0, write.ExitCode);

        await driver.DeleteVolumeAsync(view);
        await driver.DeleteSnapshotAsync(snapshot.SnapshotId);
        await driver.DeleteVolumeAsync(volume);
        Assert.Empty(await driver.SweptAsync(v, w));
    }
}
