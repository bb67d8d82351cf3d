using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Snapshots;

/// <summary>A snapshot as the driver reports it. Always ready: a ZFS snapshot is complete when the command returns.</summary>
public sealed record Snapshot(SnapshotId Id, long SizeBytes, DateTimeOffset CreatedAt, string? GroupId)
{
    public VolumeId Source => Id.Volume;
}

/// <summary>A page of snapshots and the token for the next one (null at the end).</summary>
public sealed record SnapshotPage(IReadOnlyList<Snapshot> Snapshots, string? NextToken);

/// <summary>A volume group snapshot: its members, taken at one instant.</summary>
public sealed record GroupSnapshot(string Id, IReadOnlyList<Snapshot> Members)
{
    public DateTimeOffset CreatedAt => Members.Min(m => m.CreatedAt);
}
