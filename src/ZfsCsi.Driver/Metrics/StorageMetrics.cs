using Prometheus;
using ZfsCsi.Core.Metrics;

namespace ZfsCsi.Driver.Metrics;

/// <summary>
/// The pool and the volumes as the last <see cref="StorageSample"/> saw them. Scrapes read these
/// gauges and never run a command; <see cref="StorageCollector"/> refreshes them on its interval.
/// A volume that is gone (deleted, kept, renamed away) loses its series at the next sample.
/// </summary>
public sealed class StorageMetrics(MetricsRegistry metrics, TimeProvider? clock = null)
{
    /// <summary>zpool's health words, all exported so that a change is a 0 → 1 flip on a series that already exists.</summary>
    internal static readonly string[] Healths =
    [
        "ONLINE",
        "DEGRADED",
        "FAULTED",
        "OFFLINE",
        "UNAVAIL",
        "REMOVED",
        "SUSPENDED",
    ];

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private HashSet<string> _volumes = new(StringComparer.Ordinal);

    private readonly Gauge _imported = metrics.Factory.CreateGauge(
        "zfs_csi_pool_imported",
        "1 when the pool of the parent dataset is imported.",
        ["pool"]
    );
    private readonly Gauge _health = metrics.Factory.CreateGauge(
        "zfs_csi_pool_health",
        "1 for the pool's health as zpool list reports it (ONLINE, DEGRADED, ...), 0 for the others; all 0 when not imported.",
        ["pool", "health"]
    );
    private readonly Gauge _size = metrics.Factory.CreateGauge(
        "zfs_csi_pool_size_bytes",
        "The pool's usable size: its root dataset's used + available (after redundancy), what GetCapacity reports.",
        ["pool"]
    );
    private readonly Gauge _free = metrics.Factory.CreateGauge(
        "zfs_csi_pool_free_bytes",
        "What the pool's root dataset can still take (available).",
        ["pool"]
    );
    private readonly Gauge _fragmentation = metrics.Factory.CreateGauge(
        "zfs_csi_pool_fragmentation_ratio",
        "Free-space fragmentation of the pool, 0 to 1 (zpool's fragmentation; absent on zfs-fuse, which has none).",
        ["pool"]
    );
    private readonly Gauge _referenced = metrics.Factory.CreateGauge(
        "zfs_csi_volume_referenced_bytes",
        "Bytes the volume's dataset references (its data as the pod sees it, before snapshots).",
        ["volume_id"]
    );
    private readonly Gauge _usedBySnapshots = metrics.Factory.CreateGauge(
        "zfs_csi_volume_used_by_snapshots_bytes",
        "Bytes held only by the volume's snapshots (usedbysnapshots).",
        ["volume_id"]
    );
    private readonly Gauge _quota = metrics.Factory.CreateGauge(
        "zfs_csi_volume_quota_bytes",
        "The volume's capacity: the refquota (or quota, for quotaType=quota) the driver set.",
        ["volume_id"]
    );
    private readonly Gauge _compressRatio = metrics.Factory.CreateGauge(
        "zfs_csi_volume_compress_ratio",
        "The volume's compressratio (1 is no saving).",
        ["volume_id"]
    );
    private readonly Gauge _kept = metrics.Factory.CreateGauge(
        "zfs_csi_kept_volumes",
        "Volumes deleted over CSI but kept because snapshots or clones still need their blocks."
    );
    private readonly Gauge _keptBytes = metrics.Factory.CreateGauge(
        "zfs_csi_kept_volumes_used_bytes",
        "Space the kept volumes use, their snapshots included (the sum of their used)."
    );
    private readonly Gauge _success = metrics.Factory.CreateGauge(
        "zfs_csi_storage_collection_success",
        "1 when the last collection of the pool and volume metrics succeeded, 0 when it failed or was skipped (bootstrap not ready)."
    );
    private readonly Gauge _timestamp = metrics.Factory.CreateGauge(
        "zfs_csi_storage_collection_timestamp_seconds",
        "When the pool and volume metrics were last collected successfully (Unix time)."
    );
    private readonly Gauge _duration = metrics.Factory.CreateGauge(
        "zfs_csi_storage_collection_duration_seconds",
        "How long the last successful collection's commands took."
    );

    public void Publish(StorageSample sample, TimeSpan took)
    {
        lock (_gate)
        {
            var pool = sample.Pool;
            _imported.WithLabels(pool.Pool).Set(pool.Health is null ? 0 : 1);
            foreach (var health in Healths.Append(pool.Health).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                _health.WithLabels(pool.Pool, health).Set(health == pool.Health ? 1 : 0);
            }
            SetOrRemove(_size, pool.Pool, pool.SizeBytes);
            SetOrRemove(_free, pool.Pool, pool.FreeBytes);
            SetOrRemove(_fragmentation, pool.Pool, pool.FragmentationRatio);

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var volume in sample.Volumes)
            {
                seen.Add(volume.VolumeId);
                _referenced.WithLabels(volume.VolumeId).Set(volume.ReferencedBytes);
                _usedBySnapshots.WithLabels(volume.VolumeId).Set(volume.UsedBySnapshotsBytes);
                _quota.WithLabels(volume.VolumeId).Set(volume.QuotaBytes);
                _compressRatio.WithLabels(volume.VolumeId).Set(volume.CompressRatio);
            }
            foreach (var gone in _volumes.Where(v => !seen.Contains(v)))
            {
                foreach (var gauge in new[] { _referenced, _usedBySnapshots, _quota, _compressRatio })
                {
                    gauge.WithLabels(gone).Remove();
                }
            }
            _volumes = seen;
            _kept.Set(sample.KeptVolumes);
            _keptBytes.Set(sample.KeptBytes);
            _success.Set(1);
            _timestamp.Set(_clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0);
            _duration.Set(took.TotalSeconds);
        }
    }

    /// <summary>The last collection failed or was skipped: the values stay as last read, the success gauge says they are stale.</summary>
    public void Failed() => _success.Set(0);

    private static void SetOrRemove(Gauge gauge, string pool, double? value)
    {
        if (value is { } v)
        {
            gauge.WithLabels(pool).Set(v);
        }
        else
        {
            gauge.WithLabels(pool).Remove();
        }
    }
}
