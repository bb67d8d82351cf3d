using Csi.V1;
using Grpc.Core;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Snapshots;

/// <summary>A controller on a pool of its own, with helpers to write data into volumes and find leftovers in the pool.</summary>
public class SnapshotFixture : DriverFixture
{
    public Csi.V1.Controller.ControllerClient Controller => Client.Controller;

    public async Task<string> CreateVolumeAsync(
        string name,
        long bytes = 8 * MiB,
        IDictionary<string, string>? parameters = null
    ) => (await Controller.CreateVolumeAsync(Create(name, bytes, parameters: parameters))).Volume.VolumeId;

    public async Task<CreateVolumeResponse> RestoreAsync(
        string name,
        string snapshotId,
        long bytes = 0,
        long limit = 0,
        IDictionary<string, string>? parameters = null
    )
    {
        var request = Create(name, bytes, limit, parameters);
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshotId },
        };
        return await Controller.CreateVolumeAsync(request);
    }

    public async Task<CreateVolumeResponse> CloneAsync(string name, string volumeId, long bytes = 0)
    {
        var request = Create(name, bytes);
        request.VolumeContentSource = new VolumeContentSource
        {
            Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = volumeId },
        };
        return await Controller.CreateVolumeAsync(request);
    }

    public async Task<Csi.V1.Snapshot> SnapshotAsync(string name, string volumeId) =>
        (
            await Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = name, SourceVolumeId = volumeId })
        ).Snapshot;

    public Task DeleteVolumeAsync(string id) =>
        Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id }).ResponseAsync;

    public Task DeleteSnapshotAsync(string id) =>
        Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = id }).ResponseAsync;

    public async Task<IReadOnlyList<Csi.V1.Snapshot>> ListSnapshotsAsync(string? volumeId = null) =>
        (await Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SourceVolumeId = volumeId ?? "" }))
            .Entries.Select(e => e.Snapshot)
            .ToList();

    public async Task<IReadOnlyList<string>> ListVolumeIdsAsync() =>
        (await Controller.ListVolumesAsync(new ListVolumesRequest())).Entries.Select(e => e.Volume.VolumeId).ToList();

    /// <summary>Writes a file into a volume through its mountpoint on this machine and makes it durable before any snapshot.</summary>
    public async Task WriteAsync(string volumeId, string file, string content)
    {
        var path = Path.Combine(await GetPropertyAsync(volumeId, "mountpoint"), file);
        await using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write))
        {
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(content));
            stream.Flush(flushToDisk: true);
        }
        await Sh.CheckAsync("sync");
    }

    public async Task<string> ReadAsync(string volumeId, string file) =>
        await File.ReadAllTextAsync(Path.Combine(await GetPropertyAsync(volumeId, "mountpoint"), file));

    /// <summary>Every dataset and snapshot in the pool (zfs-fuse's list has no -t all; get -r lists snapshots too).</summary>
    public async Task<IReadOnlyList<string>> PoolNamesAsync() =>
        (await Sh.CheckAsync("zfs", "get", "-r", "-H", "-o", "name", "name", Pool.Name)).Split(
            '\n',
            StringSplitOptions.RemoveEmptyEntries
        );

    /// <summary>Whatever is left in the pool of the volumes named (datasets, snapshots, hidden or not).</summary>
    public async Task<IReadOnlyList<string>> LeftoversAsync(params string[] volumeNames) =>
        (await PoolNamesAsync())
            .Where(n =>
                volumeNames.Any(v =>
                    n == $"{Pool.Parent}/{v}" || n.StartsWith($"{Pool.Parent}/{v}@", StringComparison.Ordinal)
                )
            )
            .ToList();

    /// <summary>
    /// What <paramref name="read"/> finds once the controller's background sweep has run: a delete
    /// asks for one and it runs seconds later (PeriodicSweep.RequestDelay), never inside the RPC.
    /// Polls until nothing is found or 30 s passed, and returns the last reading.
    /// </summary>
    public static async Task<IReadOnlyList<string>> AfterSweepAsync(Func<Task<IReadOnlyList<string>>> read)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var found = await read();
            if (found.Count == 0 || DateTime.UtcNow > deadline)
            {
                return found;
            }
            await Task.Delay(200);
        }
    }

    /// <summary><see cref="LeftoversAsync"/> once the background sweep has run.</summary>
    public Task<IReadOnlyList<string>> SweptAsync(params string[] volumeNames) =>
        AfterSweepAsync(() => LeftoversAsync(volumeNames));

    /// <summary>Mount-causing test commands take the driver's lock (docs/zfs.md, "Mounts and the mount lock").</summary>
    public Task<string> ZfsLockedAsync(params string[] args) =>
        TestPool.WithMountLockAsync(() => Sh.CheckAsync("zfs", args));

    public static async Task<StatusCode> CodeOfAsync(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.False(string.IsNullOrWhiteSpace(e.Status.Detail), "every error carries a message");
        return e.StatusCode;
    }
}
