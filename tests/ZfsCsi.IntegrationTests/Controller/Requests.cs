using Csi.V1;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>Request builders for tests.</summary>
public static class Requests
{
    public const long MiB = 1024L * 1024;

    public static VolumeCapability Mount(Mode mode = Mode.SingleNodeWriter) =>
        new()
        {
            Mount = new VolumeCapability.Types.MountVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
        };

    public static VolumeCapability Block(Mode mode = Mode.SingleNodeWriter) =>
        new()
        {
            Block = new VolumeCapability.Types.BlockVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
        };

    public static CreateVolumeRequest Create(
        string name,
        long requiredBytes = 8 * MiB,
        long limitBytes = 0,
        IDictionary<string, string>? parameters = null
    )
    {
        var request = new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = requiredBytes, LimitBytes = limitBytes },
        };
        request.VolumeCapabilities.Add(Mount());
        if (parameters is not null)
        {
            request.Parameters.Add(parameters);
        }
        return request;
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)];
}
