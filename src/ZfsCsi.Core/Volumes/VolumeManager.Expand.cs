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
    /// <remarks>
    /// The quota and the reservation are two <c>zfs set</c> commands. A crash or a timeout between
    /// them leaves a thick volume whose quota grew but whose reservation did not; the CO's retry
    /// then asks for a size the quota already has. So every call, that one included, first makes
    /// the reservation catch up with the quota: the expansion converges whatever step it died at.
    /// </remarks>
    public async Task<long> ExpandAsync(string id, CapacityRange range, CancellationToken ct)
    {
        var volume = ParseId(id) ?? throw NotFound(id);
        range.Resolve();
        var (_, props) = await ReadyAsync(id, () => NotFound(id), ct).ConfigureAwait(false);
        var current = CapacityOf(props);
        if (IsView(props) && range.RequiredBytes > current)
        {
            // CSI spec, ControllerExpandVolume errors: "Unsupported capacity_range: OUT_OF_RANGE,
            // the capacity range is not allowed by the Plugin". A view is its snapshot: its size is
            // the snapshot's and can never grow (nothing is ever written to it).
            throw new CapacityOutOfRangeException(
                $"volume {volume} is a read-only view of snapshot {ContentSource.FromMarker(props.LocalValue(Markers.Source))?.Id}: its capacity is the snapshot's {current} bytes and cannot grow. Restore the snapshot as a clone ({ParameterKeys.View}: never) for a volume that can"
            );
        }
        // Only a limit: nothing to grow to; the volume either is within it or would have to shrink.
        if (range.LimitBytes > 0 && range.LimitBytes < current)
        {
            throw new CapacityOutOfRangeException(
                $"volume {volume} has {current} bytes, more than limit_bytes {range.LimitBytes}; shrinking is not supported"
            );
        }
        var quota = LocalBytes(props, "refquota") is not null ? "refquota" : "quota";
        var reservation = quota == "refquota" ? "refreservation" : "reservation";
        // Thick volumes are created with the reservation in the same `zfs create` as the quota
        // (parameter thick=true), so a reservation of their own is what marks them thick.
        var reserved = LocalBytes(props, reservation) ?? 0;
        var thick = reserved > 0;
        var size = Math.Max(range.RequiredBytes, CapacityRange.MinimumBytes);
        if (size <= current)
        {
            if (thick && reserved < current)
            {
                // An earlier expansion stopped between its two steps: finish it. The quota is never
                // lowered here: the CO may already have been told the larger size.
                _log.Warning(
                    "Volume {VolumeId} has a quota of {CapacityBytes} bytes but reserves only {ReservedBytes}: an expansion was interrupted; raising the reservation",
                    volume.Value,
                    current,
                    reserved
                );
                try
                {
                    await ReserveAsync(volume, reservation, current, ct).ConfigureAwait(false);
                }
                catch (OutOfSpaceException e)
                {
                    throw new OutOfSpaceException(
                        $"{e.Message}. An interrupted expansion left it with a quota of {current} bytes of which only {reserved} are reserved; free space in the pool and retry"
                    );
                }
            }
            return current;
        }
        var pool = (await GetCapacityAsync(ct).ConfigureAwait(false)).MaximumVolumeBytes;
        if (size > pool)
        {
            throw new CapacityOutOfRangeException(
                $"volume {volume} cannot grow to {size} bytes: pool {Parent.Pool} holds {pool} bytes in all"
            );
        }

        // Quota first: ZFS refuses a reservation above the quota. If the pool cannot then hold the
        // larger reservation, the quota goes back, so a failed expansion changes nothing.
        await zfs.SetAsync(volume.Dataset, quota, Bytes(size), ct).ConfigureAwait(false);
        if (thick)
        {
            try
            {
                await ReserveAsync(volume, reservation, size, ct).ConfigureAwait(false);
            }
            catch (OutOfSpaceException)
            {
                await zfs.SetAsync(volume.Dataset, quota, Bytes(current), ct).ConfigureAwait(false);
                throw;
            }
        }
        _log.Information(
            "Expanded volume {VolumeId} from {OldCapacityBytes} to {CapacityBytes} bytes",
            volume.Value,
            current,
            size
        );
        return size;
    }

    /// <summary>Sets a thick volume's reservation; a pool that cannot hold it is RESOURCE_EXHAUSTED (CSI spec, error scheme: out of capacity).</summary>
    private async Task ReserveAsync(VolumeId volume, string reservation, long size, CancellationToken ct)
    {
        try
        {
            await zfs.SetAsync(volume.Dataset, reservation, Bytes(size), ct).ConfigureAwait(false);
        }
        catch (ZfsOutOfSpaceException e)
        {
            throw new OutOfSpaceException(
                $"pool {Parent.Pool} cannot reserve {size} bytes for volume {volume}: {e.StandardError.Trim()}"
            );
        }
    }

    private static string Bytes(long value) => value.ToString(CultureInfo.InvariantCulture);
}
