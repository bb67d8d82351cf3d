using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Snapshots;

/// <summary>
/// VolumeSnapshotClass and VolumeGroupSnapshotClass parameters. A ZFS snapshot has nothing to
/// tune, so only the keys Kubernetes' snapshotter adds itself are accepted; anything else is a
/// typo or a wrong class and is refused before anything is made.
/// </summary>
public static class SnapshotParameters
{
    public static void Validate(IReadOnlyDictionary<string, string> parameters)
    {
        foreach (var key in parameters.Keys)
        {
            if (!key.StartsWith(ParameterKeys.KubernetesPrefix, StringComparison.Ordinal))
            {
                throw new InvalidInputException(
                    $"unknown snapshot parameter '{Printable.Of(key.Length > 80 ? key[..80] + "..." : key)}': zfs-csi snapshot classes take no parameters (only Kubernetes' own {ParameterKeys.KubernetesPrefix}*)"
                );
            }
        }
    }
}
