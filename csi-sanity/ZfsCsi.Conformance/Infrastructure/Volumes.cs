using Csi.V1;
using Grpc.Core;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// What one test made (volumes, snapshots, group snapshots), deleted over CSI as the CO would
/// when the test ends, pass or fail, newest first (a volume restored from a snapshot goes before
/// the snapshot, a snapshot before its volume).
/// </summary>
public sealed class Volumes(ConformanceFixture fx) : IAsyncDisposable
{
    private enum Kind
    {
        Volume,
        Snapshot,
        Group,
        Publish,
    }

    private readonly List<(Kind Kind, string Id, string[] Members)> _made = [];

    public async Task<Volume> CreateAsync(CreateVolumeRequest request)
    {
        var response = await fx.Controller.CreateVolumeAsync(request);
        Track(response.Volume.VolumeId);
        return response.Volume;
    }

    public Task<Volume> CreateAsync(string what, long requiredBytes = Requests.VolumeSize) =>
        CreateAsync(Requests.Create(Requests.UniqueName(what), requiredBytes));

    public async Task<Snapshot> SnapshotAsync(string sourceVolumeId, string? name = null)
    {
        var response = await fx.Controller.CreateSnapshotAsync(
            new CreateSnapshotRequest { Name = name ?? Requests.UniqueName("snap"), SourceVolumeId = sourceVolumeId }
        );
        TrackSnapshot(response.Snapshot.SnapshotId);
        return response.Snapshot;
    }

    public void Track(string volumeId) => Add(Kind.Volume, volumeId, []);

    /// <summary>A node publish to undo (NodeUnpublishVolume) before the volume goes.</summary>
    public void TrackPublish(string volumeId, string targetPath) => Add(Kind.Publish, targetPath, [volumeId]);

    public void TrackSnapshot(string snapshotId) => Add(Kind.Snapshot, snapshotId, []);

    public void TrackGroup(VolumeGroupSnapshot group) =>
        Add(Kind.Group, group.GroupSnapshotId, [.. group.Snapshots.Select(s => s.SnapshotId)]);

    private void Add(Kind kind, string id, string[] members)
    {
        if (!_made.Any(m => m.Kind == kind && m.Id == id))
        {
            _made.Add((kind, id, members));
        }
    }

    public async ValueTask DisposeAsync()
    {
        var errors = new List<string>();
        foreach (var (kind, id, members) in Enumerable.Reverse(_made))
        {
            try
            {
                switch (kind)
                {
                    case Kind.Volume:
                        await DeleteVolumeAsRetriedAsync(id);
                        break;
                    case Kind.Snapshot:
                        await fx.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = id });
                        break;
                    case Kind.Publish when fx.NodePlugin is { } node:
                        await node.Node.NodeUnpublishVolumeAsync(
                            new NodeUnpublishVolumeRequest { VolumeId = members[0], TargetPath = id }
                        );
                        break;
                    case Kind.Group:
                        await fx.GroupController.DeleteVolumeGroupSnapshotAsync(
                            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = id, SnapshotIds = { members } }
                        );
                        break;
                }
            }
            catch (RpcException e)
            {
                errors.Add($"{kind} {id}: {e.StatusCode} {e.Status.Detail}");
            }
        }
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(
                $"cleanup could not delete what the test made: {string.Join("; ", errors)}"
            );
        }
    }

    /// <summary>
    /// DeleteVolume as the external-provisioner sends it: again after FAILED_PRECONDITION or ABORTED,
    /// for up to 30 s. A volume a test just read over SSHFS can be held for a moment by the storage
    /// host's SFTP server ("in use on the storage host"), and a kept volume by the background sweep
    /// that an earlier delete asked for (its lock: ABORTED, "already in progress"); the spec tells a
    /// CO to retry both.
    /// </summary>
    private async Task DeleteVolumeAsRetriedAsync(string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
                return;
            }
            catch (RpcException e)
                when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Aborted && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
