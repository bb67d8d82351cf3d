using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>ControllerGetVolumeHealth (CSI spec): the volume's issues as the storage host sees them.</summary>
    public async Task<VolumeHealth> GetHealthAsync(string id, CancellationToken ct)
    {
        var volume = await GetAsync(id, ct).ConfigureAwait(false);
        var pools = await zfs.GetPoolHealthAsync(ct).ConfigureAwait(false);
        return HealthOf(volume, pools.GetValueOrDefault(Parent.Pool));
    }

    /// <summary>
    /// ControllerListVolumeHealth (CSI spec): only volumes with issues, paged like ListVolumes,
    /// from one zfs get and one zpool list however many volumes there are.
    /// </summary>
    public async Task<VolumeHealthPage> ListHealthAsync(int maxEntries, string? startingToken, CancellationToken ct)
    {
        PageToken.CheckMaxEntries(maxEntries);
        PageToken.Read(startingToken); // a token we never issued is ABORTED before anything is read
        var all = await ListAsync(0, null, ct).ConfigureAwait(false);
        var pools = await zfs.GetPoolHealthAsync(ct).ConfigureAwait(false);
        var (page, next) = PageToken.Page(
            all.Volumes.Select(v => HealthOf(v, pools.GetValueOrDefault(Parent.Pool))).Where(h => !h.Healthy),
            h => h.Id.Value,
            startingToken,
            maxEntries
        );
        return new VolumeHealthPage(page, next);
    }

    private static VolumeHealth HealthOf(Volume volume, string? poolHealth)
    {
        var issues = new List<HealthIssue>();
        if (!volume.Mounted)
        {
            issues.Add(
                new(
                    HealthStatus.Inaccessible,
                    "DatasetNotMounted",
                    $"dataset {volume.Id} is not mounted on the storage host; run 'zfs mount {volume.Id}'"
                )
            );
        }
        switch (poolHealth)
        {
            case "DEGRADED":
                issues.Add(
                    new(
                        HealthStatus.Degraded,
                        "PoolDegraded",
                        $"pool {volume.Id.Dataset.Pool} is DEGRADED: a disk failed, redundancy is reduced; see 'zpool status'"
                    )
                );
                break;
            case "FAULTED" or "UNAVAIL" or "SUSPENDED" or null:
                issues.Add(
                    new(
                        HealthStatus.Inaccessible,
                        "PoolUnavailable",
                        $"pool {volume.Id.Dataset.Pool} is {poolHealth ?? "not imported"}"
                    )
                );
                break;
        }
        return new VolumeHealth(volume.Id, issues);
    }
}
