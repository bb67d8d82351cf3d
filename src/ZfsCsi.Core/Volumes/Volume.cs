namespace ZfsCsi.Core.Volumes;

/// <summary>A volume as the driver reports it: a ready dataset under the parent, with its capacity.</summary>
public sealed record Volume(VolumeId Id, long CapacityBytes, string? Mountpoint, bool Mounted)
{
    /// <summary>The snapshot or volume this volume was made from (CSI spec: returned as content_source).</summary>
    public ContentSource? Source { get; init; }

    /// <summary>A read-only view of its source snapshot (<see cref="Markers.View"/>): never writable, never expanded.</summary>
    public bool IsView { get; init; }
}

/// <summary>A page of volumes and the token for the next one (null at the end).</summary>
public sealed record VolumePage(IReadOnlyList<Volume> Volumes, string? NextToken);

/// <summary>What the pool can still hold and the largest volume it can hold.</summary>
public sealed record PoolCapacity(long AvailableBytes, long MaximumVolumeBytes, long MinimumVolumeBytes);
