using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Mount;

public sealed partial class NodeVolumes
{
    /// <summary>
    /// CSI spec, NodeGetVolumeStats: bytes and inodes of the published volume as the pod sees
    /// them (statvfs of the bind: over SSHFS, the dataset's refquota). A path that is not a
    /// bind of this volume is NOT_FOUND; a dead /data answers UNAVAILABLE within the deadline.
    /// </summary>
    public async Task<FsStats> GetStatsAsync(VolumeId id, string volumePath, CancellationToken ct)
    {
        var path = TargetPath.Check(volumePath, KubeletDir, "volume_path");
        var table = MountTable.Read();
        var source = table.SourceOf(DirectoryOf(id));
        var bind = table.At(path).LastOrDefault();
        if (source is null || bind is null || !source.IsBindOfSameDirectory(bind))
        {
            throw new NotFoundException($"volume {id} is not published at {path}");
        }
        if (!source.IsCurrentBind(bind))
        {
            throw new DeadMountException($"{path} is a stale bind of volume {id} from an SSHFS mount that is gone; republish the volume (restart the pod)");
        }
        return await FsAsync($"statvfs {path}", () => FsStats.Of(path)).ConfigureAwait(false);
    }
}
