using Csi.V1;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>Node request builders for tests.</summary>
public static class NodeRequests
{
    public static NodePublishVolumeRequest Publish(
        string volumeId,
        string target,
        bool readOnly = false,
        Mode mode = Mode.MultiNodeMultiWriter,
        params string[] flags
    )
    {
        var capability = new VolumeCapability
        {
            Mount = new VolumeCapability.Types.MountVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
        };
        capability.Mount.MountFlags.Add(flags);
        return new NodePublishVolumeRequest
        {
            VolumeId = volumeId,
            TargetPath = target,
            Readonly = readOnly,
            VolumeCapability = capability,
        };
    }

    public static NodeUnpublishVolumeRequest Unpublish(string volumeId, string target) =>
        new() { VolumeId = volumeId, TargetPath = target };
}
