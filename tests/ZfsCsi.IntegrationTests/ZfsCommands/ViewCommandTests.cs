using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.IntegrationTests.ZfsCommands;

/// <summary>
/// What a read-only view relies on (README, "Read-only views"; docs/zfs.md), on the backend the
/// run is for (zfs-fuse here; OpenZFS 2.3 in the storage host VM with <c>ZFS_CSI_BACKEND=openzfs</c>):
/// a clone made with <c>readonly=on</c> and the view marker by the driver's own argv shows the
/// snapshot, refuses writes, and keeps a deferred-destroyed snapshot until it is destroyed.
/// </summary>
[Trait("Backend", "both")]
public sealed class ViewCommandTests(ScratchDatasets scratch) : IClassFixture<ScratchDatasets>
{
    [Fact]
    public async Task A_read_only_clone_shows_the_snapshot_refuses_writes_and_holds_its_deferred_snapshot_until_it_goes()
    {
        var d = scratch.NewName("vieworigin");
        await scratch.CheckAsync("zfs", ZfsArgs.Create(d, []));
        var origin = await scratch.PropertyAsync(d.Value, "mountpoint");
        await scratch.ShellAsync("echo at-the-snapshot > \"$1\"/file", origin!);
        var snap = SnapshotName.Of(d, "s");
        await scratch.CheckAsync("zfs", ZfsArgs.Snapshot(snap, []));
        await scratch.ShellAsync("echo after > \"$1\"/file", origin!);
        var view = scratch.NewName("view");

        await scratch.CheckAsync(
            "zfs",
            ZfsArgs.Clone(snap, view, VolumeManager.ViewProperties([new("refquota", "64M")]))
        );

        Assert.Equal(Markers.ViewOn, await scratch.PropertyAsync(view.Value, Markers.View));
        var mountpoint = await scratch.PropertyAsync(view.Value, "mountpoint");
        Assert.Equal("at-the-snapshot\n", await scratch.ShellAsync("cat \"$1\"/file", mountpoint!));
        var write = await scratch.Host.RunAsync("sh", ["-c", "echo x > \"$1\"/new", "sh", mountpoint!]);
        Assert.NotEqual(0, write.ExitCode);
        Assert.Contains("Read-only file system", write.StandardError, StringComparison.Ordinal);
        Assert.Equal("at-the-snapshot\n", await scratch.ShellAsync("cat \"$1\"/file", mountpoint!));

        await scratch.CheckAsync("zfs", ZfsArgs.DestroySnapshotDeferred(snap));
        Assert.Equal("on", await scratch.PropertyAsync(snap.Value, "defer_destroy"));
        Assert.Equal("at-the-snapshot\n", await scratch.ShellAsync("cat \"$1\"/file", mountpoint!));

        await scratch.DestroyAsync(view);
        Assert.False(await scratch.ExistsAsync(snap.Value));
    }
}
