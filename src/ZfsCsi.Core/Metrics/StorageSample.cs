namespace ZfsCsi.Core.Metrics;

/// <summary>
/// The pool of the parent dataset at one look. Null values were not there to read: the pool is
/// not imported (<see cref="Health"/> null), or this zpool has no fragmentation property (zfs-fuse).
/// </summary>
/// <param name="SizeBytes">The pool's usable size: its root dataset's used + available, as GetCapacity reports it.</param>
/// <param name="FreeBytes">What the pool's root dataset can still take (available).</param>
public sealed record PoolSample(
    string Pool,
    string? Health,
    long? SizeBytes,
    long? FreeBytes,
    double? FragmentationRatio
);

/// <summary>One ready volume: its space as ZFS accounts it.</summary>
/// <param name="QuotaBytes">The volume's capacity: the refquota (or quota, for quotaType=quota) the driver set.</param>
public sealed record VolumeSample(
    string VolumeId,
    long ReferencedBytes,
    long UsedBySnapshotsBytes,
    long QuotaBytes,
    double CompressRatio
);

/// <summary>
/// What one collection read: the pool, every ready volume, and the volumes deleted but kept
/// because snapshots or clones still need their blocks (<see cref="Volumes.Markers.StateDeleted"/>).
/// </summary>
public sealed record StorageSample(
    PoolSample Pool,
    IReadOnlyList<VolumeSample> Volumes,
    int KeptVolumes,
    long KeptBytes
);
