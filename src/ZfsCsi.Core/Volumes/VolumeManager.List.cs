using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>
    /// ListVolumes (CSI spec): ready volumes of ours in name order, from one <c>zfs get -d 1</c> of the
    /// parent however many volumes there are. Paging continues after the last name returned (see
    /// <see cref="PageToken"/>).
    /// </summary>
    public async Task<VolumePage> ListAsync(int maxEntries, string? startingToken, CancellationToken ct)
    {
        PageToken.CheckMaxEntries(maxEntries);
        PageToken.Read(startingToken); // a token we never issued is ABORTED before anything is read
        IReadOnlyList<DatasetProperties> children;
        try
        {
            children = await zfs.GetChildrenAsync(Parent, VolumeProperties, ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            await EnsureParentAsync(ct).ConfigureAwait(false);
            throw;
        }
        // Only names the other RPCs accept as ids: a dataset renamed by hand keeps our markers, and
        // listing it would show an id that ControllerGetVolume calls unknown.
        var (page, next) = PageToken.Page(
            children.Where(c => IsReady(c) && ParseId(c.Name) is not null).Select(ToVolume),
            v => v.Id.Value,
            startingToken,
            maxEntries
        );
        return new VolumePage(page, next);
    }

    /// <summary>
    /// GetCapacity (CSI spec): what the parent dataset can still take and the pool's usable size
    /// (the root dataset's used + available, the largest volume that can ever fit), from one zfs get.
    /// </summary>
    public async Task<PoolCapacity> GetCapacityAsync(CancellationToken ct)
    {
        var root = DatasetName.Parse(Parent.Pool);
        IReadOnlyList<DatasetProperties> rows;
        try
        {
            rows = await zfs.GetAsync([Parent, root], ["used", "available"], ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            await EnsureParentAsync(ct).ConfigureAwait(false);
            throw;
        }
        var parent = rows.Single(r => r.Name == Parent.Value);
        var pool = rows.Single(r => r.Name == root.Value);
        var poolSize = (pool.Bytes("used") ?? 0) + (pool.Bytes("available") ?? 0);
        return new PoolCapacity(parent.Bytes("available") ?? 0, poolSize, CapacityRange.MinimumBytes);
    }
}
