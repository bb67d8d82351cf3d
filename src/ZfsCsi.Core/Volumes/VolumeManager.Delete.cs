using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>
    /// DeleteVolume (CSI spec): OK when the volume is gone or never was ours; the data of a dataset
    /// the driver did not create is never destroyed. A dataset that is in use stays as it was and
    /// the caller gets FAILED_PRECONDITION; an unreachable pool is UNAVAILABLE, never OK.
    /// </summary>
    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        if (ParseId(id) is not { } volumeId)
        {
            _log.Information("Volume id {VolumeId} is not one of ours; nothing to delete", id);
            return;
        }
        var props = await zfs.TryGetAsync(volumeId.Dataset, VolumeProperties, ct).ConfigureAwait(false);
        if (props is null)
        {
            await EnsureParentAsync(ct).ConfigureAwait(false);
            return;
        }
        if (!IsOurs(props))
        {
            _log.Warning("Dataset {Dataset} has no zfs-csi marker; refusing to destroy data the driver did not create", volumeId.Value);
            return;
        }
        try
        {
            await zfs.DestroyAsync(volumeId.Dataset, ct).ConfigureAwait(false);
        }
        catch (DatasetNotFoundException)
        {
            // Gone between our read and the destroy: the goal is reached.
            return;
        }
        catch (DatasetBusyException e)
        {
            throw new FailedPreconditionException($"volume {volumeId} is in use on the storage host (a process has files open under {props.Value("mountpoint")}); stop it and retry. zfs said: {e.StandardError.Trim()}");
        }
        catch (DatasetHasDependentsException e)
        {
            throw new FailedPreconditionException($"volume {volumeId} has snapshots or clones that depend on it; delete them first. zfs said: {e.StandardError.Trim()}");
        }
        _log.Information("Destroyed dataset {Dataset}", volumeId.Value);
    }
}
