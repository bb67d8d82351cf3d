using Csi.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

public sealed partial class ControllerService
{
    /// <summary>
    /// CreateSnapshot (CSI spec): every field checked first (<see cref="SnapshotManager.CheckCreateRequest"/>),
    /// then locked by name (two calls for one name race otherwise) and by source volume (a concurrent
    /// DeleteVolume must not pass between the lookup and the snapshot).
    /// </summary>
    public override async Task<CreateSnapshotResponse> CreateSnapshot(
        CreateSnapshotRequest request,
        ServerCallContext context
    )
    {
        SnapshotManager.CheckCreateRequest(request.Name, request.SourceVolumeId, request.Parameters);
        var source = request.SourceVolumeId;
        using var _ = AcquireAll(SnapshotNaming.NameLockKey(request.Name), source);
        var snapshot = await snapshots
            .CreateAsync(request.Name, source, request.Parameters, context.CancellationToken)
            .ConfigureAwait(false);
        return new CreateSnapshotResponse { Snapshot = ToCsi(snapshot) };
    }

    public override async Task<DeleteSnapshotResponse> DeleteSnapshot(
        DeleteSnapshotRequest request,
        ServerCallContext context
    )
    {
        var id = CapabilityChecks.Required(request.SnapshotId, "snapshot_id");
        using var _ = locks.Acquire(id);
        await snapshots.DeleteAsync(id, context.CancellationToken).ConfigureAwait(false);
        return new DeleteSnapshotResponse();
    }

    public override async Task<ListSnapshotsResponse> ListSnapshots(
        ListSnapshotsRequest request,
        ServerCallContext context
    )
    {
        var page = await snapshots
            .ListAsync(
                request.MaxEntries,
                request.StartingToken,
                request.SnapshotId,
                request.SourceVolumeId,
                context.CancellationToken
            )
            .ConfigureAwait(false);
        var response = new ListSnapshotsResponse { NextToken = page.NextToken ?? "" };
        response.Entries.Add(page.Snapshots.Select(s => new ListSnapshotsResponse.Types.Entry { Snapshot = ToCsi(s) }));
        return response;
    }

    /// <summary>GetSnapshot (CSI spec, alpha): NOT_FOUND for an id that is unknown, foreign or deleted.</summary>
    public override async Task<GetSnapshotResponse> GetSnapshot(GetSnapshotRequest request, ServerCallContext context)
    {
        var id = CapabilityChecks.Required(request.SnapshotId, "snapshot_id");
        var snapshot = await snapshots.GetAsync(id, context.CancellationToken).ConfigureAwait(false);
        return new GetSnapshotResponse { Snapshot = ToCsi(snapshot) };
    }

    internal static Csi.V1.Snapshot ToCsi(Core.Snapshots.Snapshot snapshot) =>
        new()
        {
            SnapshotId = snapshot.Id.Value,
            SourceVolumeId = snapshot.Source.Value,
            SizeBytes = snapshot.SizeBytes,
            CreationTime = Timestamp.FromDateTimeOffset(snapshot.CreatedAt),
            // A ZFS snapshot is complete when the command returns: nothing to upload or cut.
            ReadyToUse = true,
            GroupSnapshotId = snapshot.GroupId ?? "",
        };

    /// <summary>Several locks, all or none: on a busy key the ones taken are released and the caller gets ABORTED.</summary>
    private IDisposable AcquireAll(params string[] keys) => AcquireAll(locks, keys);

    internal static IDisposable AcquireAll(OperationLocks locks, IEnumerable<string> keys)
    {
        var held = new List<IDisposable>();
        try
        {
            foreach (var key in keys.Distinct(StringComparer.Ordinal))
            {
                held.Add(locks.Acquire(key));
            }
            return new All(held);
        }
        catch
        {
            new All(held).Dispose();
            throw;
        }
    }

    private sealed class All(List<IDisposable> held) : IDisposable
    {
        public void Dispose()
        {
            foreach (var h in Enumerable.Reverse(held))
            {
                h.Dispose();
            }
        }
    }
}
