using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Mount;

public sealed partial class NodeVolumes
{
    /// <summary>
    /// CSI spec, NodeGetVolumeStats: bytes and inodes of the published volume as the pod sees
    /// them (statvfs of the bind: over SSHFS, the dataset's refquota). Errors, per the spec's
    /// table: "Volume does not exist | 5 NOT_FOUND | ... does not exist on specified volume_path",
    /// so a path that is not a bind of this volume on this node is NOT_FOUND, also a relative path
    /// or one outside the kubelet directory (csi-sanity sends "some/path" and expects NOT_FOUND);
    /// an empty path is a missing required field (INVALID_ARGUMENT, checked by the service). A
    /// bind that exists but cannot be read now (dead or unmounted /data, a fenced bind) is
    /// UNAVAILABLE within the deadline: the volume is there, the CO may retry.
    /// </summary>
    public async Task<FsStats> GetStatsAsync(VolumeId id, string volumePath, CancellationToken ct)
    {
        var path = TargetPath.TryCheck(volumePath, KubeletDir)
            ?? throw new NotFoundException(
                $"volume {id} is not published at '{Printable.Of(volumePath)}': this node publishes volumes only at absolute paths below {KubeletDir}"
            );
        var table = MountTable.Read(kernel);
        var bind = table.At(path).LastOrDefault()
            ?? throw new NotFoundException($"volume {id} is not published at {path}");
        if (Fence.Is(bind))
        {
            throw Fence.VolumeOf(bind) == id.Value
                ? new VolumeFencedException(FencedMessage(id, path))
                : new NotFoundException($"volume {id} is not published at {path}");
        }
        if (table.At(dataRoot.Path).LastOrDefault() is null)
        {
            // /data itself is gone (SSHFS detached, not yet mounted again): the lookup below would
            // fall through to whatever holds the directory (the root filesystem) and call a stale
            // bind of this volume "not published".
            throw IsBindOf(id, bind)
                ? new DeadMountException(
                    $"{path} is a bind of volume {id} but the node's data root {dataRoot.Path} is not mounted; it is mounted again within seconds, retry"
                )
                : new NotFoundException($"volume {id} is not published at {path}");
        }
        var source = table.SourceOf(DirectoryOf(id));
        if (source is null || !source.IsBindOfSameDirectory(bind))
        {
            throw new NotFoundException($"volume {id} is not published at {path}");
        }
        if (!source.IsCurrentBind(bind))
        {
            throw new DeadMountException(
                $"{path} is a stale bind of volume {id} from an SSHFS mount that is gone; republish the volume (restart the pod)"
            );
        }
        return await FsAsync($"statvfs {path}", () => FsStats.Of(kernel, path)).ConfigureAwait(false);
    }

    /// <summary>Whether a mount looks like a bind of the volume's directory when /data cannot be asked: its root inside the filesystem, or the dataset's own mount.</summary>
    private bool IsBindOf(VolumeId id, MountEntry bind) =>
        bind.Root == "/" + string.Join('/', Components(id)) || (bind.IsZfs && bind.Source == id.Value);

    private string FencedMessage(VolumeId id, string path) =>
        $"the bind of volume {id} at {path} was cut because its dataset was not mounted on the pool's host (writes would have gone into the parent dataset {_parent}); "
        + "mount the dataset, then publish again (kubelet does when the pod restarts)";
}
