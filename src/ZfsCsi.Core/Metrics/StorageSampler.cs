using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Metrics;

/// <summary>
/// Reads what the storage metrics show in a fixed number of processes however many volumes there
/// are: <c>zpool list</c> for health, <c>zpool list</c> for fragmentation, one <c>zfs get</c> of the
/// pool's root dataset for its space and one <c>zfs get -d 1</c> of the parent for every volume
/// (the listing ListVolumes uses). A pool that is not imported is a sample, not an error; a zfs
/// that fails or hangs throws, and the collector says so.
/// </summary>
public sealed class StorageSampler(ZfsClient zfs, VolumeOptions options)
{
    /// <summary>The markers that tell ready and kept volumes apart, the quotas that are their capacity, and the space columns.</summary>
    internal static readonly string[] VolumeProperties =
    [
        Markers.CsiName,
        Markers.State,
        "refquota",
        "quota",
        "referenced",
        "usedbysnapshots",
        "used",
        "compressratio",
    ];

    private readonly DatasetName _parent = options.Parent;

    public async Task<StorageSample> SampleAsync(CancellationToken ct)
    {
        var pool = _parent.Pool;
        var health = await zfs.GetPoolHealthAsync(ct).ConfigureAwait(false);
        if (!health.TryGetValue(pool, out var poolHealth))
        {
            return new StorageSample(new PoolSample(pool, null, null, null, null), [], 0, 0);
        }
        var fragmentation = await zfs.TryGetPoolFragmentationAsync(ct).ConfigureAwait(false);
        var root = (
            await zfs.GetAsync([DatasetName.Parse(pool)], ["used", "available"], ct).ConfigureAwait(false)
        ).Single();
        var used = root.Bytes("used") ?? 0;
        var available = root.Bytes("available") ?? 0;
        var poolSample = new PoolSample(
            pool,
            poolHealth,
            used + available,
            available,
            fragmentation?.GetValueOrDefault(pool)
        );

        var volumes = new List<VolumeSample>();
        var kept = 0;
        var keptBytes = 0L;
        foreach (var row in await zfs.GetChildrenAsync(_parent, VolumeProperties, ct).ConfigureAwait(false))
        {
            // Only names the RPCs accept as ids, as ListVolumes: the label must be the id a user can look up.
            if (
                row.IsSnapshot
                || row.Name == _parent.Value
                || VolumeId.TryParse(row.Name, _parent) is not { } id
                || !VolumeManager.IsOurs(row)
            )
            {
                continue;
            }
            if (row.LocalValue(Markers.State) == Markers.StateDeleted)
            {
                kept++;
                keptBytes += row.Bytes("used") ?? 0;
            }
            else if (VolumeManager.IsReady(row))
            {
                volumes.Add(
                    new VolumeSample(
                        id.Value,
                        row.Bytes("referenced") ?? 0,
                        row.Bytes("usedbysnapshots") ?? 0,
                        VolumeManager.CapacityOf(row),
                        row.Value("compressratio") is { } ratio ? ZfsParser.ParseRatio(ratio) ?? 1 : 1
                    )
                );
            }
        }
        return new StorageSample(poolSample, volumes, kept, keptBytes);
    }
}
