namespace ZfsCsi.Core.Volumes;

/// <summary>A volume as the driver reports it: a ready dataset under the parent, with its capacity.</summary>
public sealed record Volume(VolumeId Id, long CapacityBytes, string? Mountpoint, bool Mounted);

/// <summary>A page of volumes and the token for the next one (null at the end).</summary>
public sealed record VolumePage(IReadOnlyList<Volume> Volumes, string? NextToken);

/// <summary>What the pool can still hold and the largest volume it can hold.</summary>
public sealed record PoolCapacity(long AvailableBytes, long MaximumVolumeBytes, long MinimumVolumeBytes);
