using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Metrics;

/// <summary>
/// The node plugin's events worth a time series, told where they happen (DataRoot, NodeVolumes,
/// the node service). A seam like <see cref="ICommandMetrics"/>: the Core knows no metrics library.
/// </summary>
public interface INodeMetrics
{
    /// <summary>A look at the node's data root found it in <paramref name="state"/>.</summary>
    void DataRootProbed(DataRootState state);

    /// <summary>This plugin mounted the data root over SSHFS (the first mount or a re-mount after a disconnect).</summary>
    void SshfsMounted();

    /// <summary>An SSHFS mount of the data root this plugin tried failed.</summary>
    void SshfsMountFailed();

    /// <summary>The bind check cut a bind whose dataset was not mounted on the storage host.</summary>
    void BindFenced(VolumeId volume);

    /// <summary>NodeGetVolumeStats of a published volume failed with <paramref name="kind"/>.</summary>
    void VolumeStatsFailed(VolumeId volume, ErrorKind kind);
}
