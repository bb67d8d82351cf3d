using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>
    /// ControllerModifyVolume (CSI spec): changes a ready volume online to have the given mutable
    /// parameters; keys not given stay as they are (the spec forbids acting on an absent key). Every
    /// step is computed from what the dataset has now, so the call is idempotent and a retry after a
    /// crash or timeout between two <c>zfs set</c>s finishes what the first began; the marker
    /// (<see cref="Markers.Mutable"/>) is written last.
    /// </summary>
    /// <remarks>
    /// Order: capacity first (quotaType, provisioning: the only steps that can run out of space; on
    /// RESOURCE_EXHAUSTED everything is as it was), then every ZFS property in one <c>zfs set</c>
    /// where ZFS takes several (OpenZFS checks every value before it sets any; zfs-fuse sets one per
    /// command, so a value it refuses leaves the ones before it set, and the marker unchanged), then
    /// the marker.
    /// </remarks>
    public async Task ModifyAsync(string id, MutableParameters mutable, CancellationToken ct)
    {
        var (volume, props) = await ReadyAsync(id, () => NotFound(id), ct).ConfigureAwait(false);
        var recorded = MutableParameters.Decode(props.LocalValue(Markers.Mutable)) ?? MutableParameters.None;
        CheckRootUnchanged(volume, mutable, recorded);
        if (IsView(props))
        {
            CheckViewStaysReadOnly($"volume {volume}", mutable);
        }

        var current =
            mutable.ZfsProperties.Count == 0
                ? null
                : await zfs.TryGetAsync(volume.Dataset, mutable.ZfsProperties.Keys, ct).ConfigureAwait(false)
                    ?? throw NotFound(id);

        await ModifyCapacityAsync(volume, props, mutable, recorded, ct).ConfigureAwait(false);

        // A value the dataset already has locally is not set again (recordsize=128K reads back as
        // 131072 and is simply set again: a set of the same value changes nothing).
        var changes = mutable.ZfsProperties.Where(p => current!.LocalValue(p.Key) != p.Value).ToList();
        await zfs.SetManyAsync(volume.Dataset, changes, ct).ConfigureAwait(false);

        var after = mutable.Over(recorded);
        if (props.LocalValue(Markers.Mutable) != after.Encode())
        {
            await zfs.SetAsync(volume.Dataset, Markers.Mutable, after.Encode(), ct).ConfigureAwait(false);
        }
        _log.Information(
            "Modified volume {VolumeId}: {Mutable} ({Changes} properties set)",
            volume.Value,
            mutable.ToString(),
            changes.Count
        );
    }

    /// <summary>
    /// A read-only view stays one: readonly=off would make the snapshot's restore writable behind the
    /// CO's back (it was published read-only everywhere), and a thick reservation would reserve space
    /// a view never writes. Both are INVALID_ARGUMENT, nothing changed.
    /// </summary>
    /// <summary>
    /// A view stays read-only and thin: the same mutable parameters are refused at its creation
    /// (CreateVolume) and by ControllerModifyVolume, so its marker never records what it is not.
    /// </summary>
    internal static void CheckViewStaysReadOnly(string what, MutableParameters mutable)
    {
        if (mutable.ZfsProperties.TryGetValue("readonly", out var ro) && ro != "on")
        {
            throw new InvalidInputException(
                $"{what} is a read-only view of a snapshot: readonly cannot be '{Printable.Of(ro)}'. Restore the snapshot as a clone ({ParameterKeys.View}: never) for a writable volume"
            );
        }
        if (mutable.Thick == true)
        {
            throw new InvalidInputException(
                $"{what} is a read-only view of a snapshot: it never writes, so {ParameterKeys.Provisioning}: thick would reserve space nothing can use. Restore the snapshot as a clone ({ParameterKeys.View}: never) for a reserved copy"
            );
        }
    }

    /// <summary>
    /// A root directory's mode and owner are applied once, to the empty directory of a new volume: a
    /// volume in use holds files whose owners and pods rely on them, and a chmod/chown of its root
    /// behind their back is not a storage attribute. The value the volume was made with is accepted
    /// (a VolumeAttributesClass names every key it has, changed or not); another is INVALID_ARGUMENT.
    /// </summary>
    private static void CheckRootUnchanged(VolumeId volume, MutableParameters mutable, MutableParameters recorded)
    {
        void Check<T>(string key, T? asked, T? has)
            where T : struct
        {
            if (asked is not null && !Equals(asked, has))
            {
                throw new InvalidInputException(
                    $"mutable parameter {key} cannot change on an existing volume ({volume}): the root directory's mode and owner are set once, "
                        + $"when a volume is made{(has is null ? "" : $" (this one was made with {key} {recorded.Values[key]})")}, "
                        + "and the driver does not chmod or chown a directory that may hold data. Change it from a pod (an init container running chmod/chown, or fsGroup), "
                        + $"or leave {key} out of the VolumeAttributesClass"
                );
            }
        }
        Check(ParameterKeys.RootMode, mutable.RootMode, recorded.RootMode);
        Check(ParameterKeys.RootUid, mutable.RootUid, recorded.RootUid);
        Check(ParameterKeys.RootGid, mutable.RootGid, recorded.RootGid);
    }

    /// <summary>
    /// quotaType and provisioning: the capacity stays exactly what it is, held by the quota the type
    /// names, and a thick volume reserves all of it. From refquota to quota: the new quota is set to
    /// the capacity first (both hold for a moment), then the reservation moves (the new one before
    /// the old one goes: the volume is never unreserved), then the old quota goes (<c>none</c>).
    /// A reservation the pool cannot hold is RESOURCE_EXHAUSTED, with the quota just added taken away
    /// again: nothing changed. Both quotas set (an interrupted change) converge to the type asked for,
    /// else to the one recorded, else refquota.
    /// </summary>
    private async Task ModifyCapacityAsync(
        VolumeId volume,
        DatasetProperties props,
        MutableParameters mutable,
        MutableParameters recorded,
        CancellationToken ct
    )
    {
        var refQuota = LocalBytes(props, "refquota");
        var quota = LocalBytes(props, "quota");
        var capacity = CapacityOf(props);
        var currentType =
            refQuota is not null && quota is null ? QuotaType.RefQuota
            : quota is not null && refQuota is null ? QuotaType.Quota
            : (QuotaType?)null;
        var type = mutable.QuotaType ?? currentType ?? recorded.QuotaType ?? QuotaType.RefQuota;
        var (keep, drop) = type == QuotaType.RefQuota ? ("refquota", "quota") : ("quota", "refquota");
        var (reservation, otherReservation) =
            type == QuotaType.RefQuota ? ("refreservation", "reservation") : ("reservation", "refreservation");
        var reserved = LocalBytes(props, reservation);
        var otherReserved = LocalBytes(props, otherReservation);
        var thick = mutable.Thick ?? (reserved is not null || otherReserved is not null);
        if (capacity <= 0)
        {
            throw new FailedPreconditionException(
                $"volume {volume} has neither a refquota nor a quota of its own: its capacity is unknown; set one by hand (zfs set refquota=SIZE {volume}) and retry"
            );
        }
        if (
            currentType == type
            && thick == (reserved is not null)
            && otherReserved is null
            && (!thick || reserved == capacity)
        )
        {
            return;
        }

        var added = LocalBytes(props, keep) is null;
        if (LocalBytes(props, keep) != capacity)
        {
            await SetQuotaAsync(volume, keep, capacity, ct).ConfigureAwait(false);
        }
        if (thick && reserved != capacity)
        {
            try
            {
                await ReserveAsync(volume, reservation, capacity, ct).ConfigureAwait(false);
            }
            catch (OutOfSpaceException e) when (added)
            {
                await zfs.SetAsync(volume.Dataset, keep, "none", ct).ConfigureAwait(false);
                throw new OutOfSpaceException($"{e.Message}; volume {volume} is left as it was");
            }
        }
        if (otherReserved is not null)
        {
            await zfs.SetAsync(volume.Dataset, otherReservation, "none", ct).ConfigureAwait(false);
        }
        if (!thick && reserved is not null)
        {
            await zfs.SetAsync(volume.Dataset, reservation, "none", ct).ConfigureAwait(false);
        }
        if (LocalBytes(props, drop) is not null)
        {
            await zfs.SetAsync(volume.Dataset, drop, "none", ct).ConfigureAwait(false);
        }
        _log.Information(
            "Volume {VolumeId} now holds its {CapacityBytes} bytes as {Quota}, {Provisioning}",
            volume.Value,
            capacity,
            keep,
            thick ? "thick" : "thin"
        );
    }

    /// <summary>
    /// A quota of the other type set to the capacity. quota counts snapshots (and a refreservation)
    /// too, so a volume whose data and snapshots already take more than its capacity cannot switch:
    /// FAILED_PRECONDITION, nothing changed.
    /// </summary>
    private async Task SetQuotaAsync(VolumeId volume, string quota, long capacity, CancellationToken ct)
    {
        try
        {
            await zfs.SetAsync(volume.Dataset, quota, Bytes(capacity), ct).ConfigureAwait(false);
        }
        catch (ZfsQuotaBelowUsageException e)
        {
            throw new FailedPreconditionException(
                $"volume {volume} cannot hold its {capacity} bytes as a {quota}: with its snapshots it already uses more ({e.StandardError.Trim()}). "
                    + "Delete snapshots or expand the volume, then retry"
            );
        }
    }
}
