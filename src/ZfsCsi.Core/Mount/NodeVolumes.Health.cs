using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Mount;

public sealed partial class NodeVolumes
{
    /// <summary>
    /// CSI spec, NodeGetVolumeHealth (alpha; CSI 1.13 replaced VolumeCondition with it): the volume
    /// as this node sees it. INACCESSIBLE when the node's /data is dead, the dataset is gone or
    /// not mounted on the pool's host, or the publish path is not a live bind of it (a fenced
    /// bind included). A publish path that is not one this node publishes at (relative, outside
    /// the kubelet directory) is "not published", as NodeGetVolumeStats answers NOT_FOUND for it.
    /// Each check has the deadline, so a dead link is reported within seconds.
    /// </summary>
    public async Task<VolumeHealth> GetHealthAsync(VolumeId id, string? publishPath, CancellationToken ct)
    {
        var root = await dataRoot.ProbeAsync().ConfigureAwait(false);
        if (!root.Alive)
        {
            return Unhealthy(id, "NodeDataUnavailable", $"the node's data root is unavailable: {root.Reason}");
        }
        try
        {
            using var dir = await OpenVolumeAsync(id).ConfigureAwait(false);
            if (await NotMountedReasonAsync(id, dir).ConfigureAwait(false) is { } notMounted)
            {
                return Unhealthy(id, "DatasetNotMounted", notMounted);
            }
        }
        catch (NotFoundException e)
        {
            return Unhealthy(id, "DatasetGone", e.Message);
        }
        catch (Exception e) when (e is FailedPreconditionException or NotADirectoryException)
        {
            return Unhealthy(id, "NotADirectory", e.Message);
        }
        catch (DeadMountException e)
        {
            return Unhealthy(id, "NodeDataUnavailable", e.Message);
        }
        if (!string.IsNullOrEmpty(publishPath))
        {
            try
            {
                await GetStatsAsync(id, publishPath, ct).ConfigureAwait(false);
            }
            catch (NotFoundException e)
            {
                return Unhealthy(id, "NotPublished", e.Message);
            }
            catch (VolumeFencedException e)
            {
                return Unhealthy(id, "PublishPathFenced", e.Message);
            }
            catch (DeadMountException e)
            {
                return Unhealthy(id, "PublishPathUnavailable", e.Message);
            }
        }
        return new VolumeHealth(id, []);
    }

    private static VolumeHealth Unhealthy(VolumeId id, string reason, string message) =>
        new(id, [new HealthIssue(HealthStatus.Inaccessible, reason, message)]);
}
