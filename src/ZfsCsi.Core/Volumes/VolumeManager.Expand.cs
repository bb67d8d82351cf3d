using System.Globalization;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>
    /// ControllerExpandVolume (CSI spec): raises the quota (and the reservation of a thick volume)
    /// online; no node step is needed, a bind mount sees the new size at once. Asking for the
    /// current size or less succeeds and changes nothing (CSI spec, ControllerExpandVolume: a volume
    /// already at least the target capacity SHOULD answer OK); a limit_bytes below the current size
    /// is OUT_OF_RANGE, since only shrinking could meet it and ZFS cannot give back space the
    /// volume may already hold.
    /// </summary>
    public async Task<long> ExpandAsync(string id, CapacityRange range, CancellationToken ct)
    {
        var volume = ParseId(id) ?? throw NotFound(id);
        range.Resolve();
        var props = await zfs.TryGetAsync(volume.Dataset, VolumeProperties, ct).ConfigureAwait(false);
        if (props is null)
        {
            await EnsureParentAsync(ct).ConfigureAwait(false);
        }
        if (props is null || !IsReady(props))
        {
            throw NotFound(id);
        }
        var current = CapacityOf(props);
        // Only a limit: nothing to grow to; the volume either is within it or would have to shrink.
        if (range.LimitBytes > 0 && range.LimitBytes < current)
        {
            throw new CapacityOutOfRangeException($"volume {volume} has {current} bytes, more than limit_bytes {range.LimitBytes}; shrinking is not supported");
        }
        var size = Math.Max(range.RequiredBytes, CapacityRange.MinimumBytes);
        if (size <= current)
        {
            return current;
        }
        var pool = (await GetCapacityAsync(ct).ConfigureAwait(false)).MaximumVolumeBytes;
        if (size > pool)
        {
            throw new CapacityOutOfRangeException($"volume {volume} cannot grow to {size} bytes: pool {Parent.Pool} holds {pool} bytes in all");
        }

        var quota = props.LocalValue("refquota") is not null ? "refquota" : "quota";
        var reservation = quota == "refquota" ? "refreservation" : "reservation";
        var thick = props.LocalValue(reservation) is { } r && ZfsParser.ParseBytes(r) is > 0;
        var sizeText = size.ToString(CultureInfo.InvariantCulture);
        // Quota first: ZFS refuses a reservation above the quota. If the pool cannot then hold the
        // larger reservation, the quota goes back, so a failed expansion changes nothing.
        await zfs.SetAsync(volume.Dataset, quota, sizeText, ct).ConfigureAwait(false);
        if (thick)
        {
            try
            {
                await zfs.SetAsync(volume.Dataset, reservation, sizeText, ct).ConfigureAwait(false);
            }
            catch (ZfsOutOfSpaceException e)
            {
                await zfs.SetAsync(volume.Dataset, quota, current.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
                throw new OutOfSpaceException($"pool {Parent.Pool} cannot reserve {size} bytes for volume {volume}: {e.StandardError.Trim()}");
            }
        }
        _log.Information("Expanded volume {VolumeId} from {OldCapacityBytes} to {CapacityBytes} bytes", volume.Value, current, size);
        return size;
    }
}
