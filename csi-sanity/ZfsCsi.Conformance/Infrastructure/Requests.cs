using Csi.V1;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>Request builders, as the external-provisioner fills them for a filesystem PVC.</summary>
public static class Requests
{
    public const long MiB = 1024L * 1024;

    /// <summary>The size the suite's volumes get: small, the pool is 2 × 128 MiB.</summary>
    public const long VolumeSize = 16 * MiB;

    public static VolumeCapability Mount(Mode mode = Mode.SingleNodeWriter, string fsType = "") =>
        new()
        {
            Mount = new VolumeCapability.Types.MountVolume { FsType = fsType },
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
        long requiredBytes = VolumeSize,
        long limitBytes = 0,
        IDictionary<string, string>? parameters = null
    )
    {
        var request = new CreateVolumeRequest { Name = name, VolumeCapabilities = { Mount() } };
        if (requiredBytes > 0 || limitBytes > 0)
        {
            request.CapacityRange = new CapacityRange { RequiredBytes = requiredBytes, LimitBytes = limitBytes };
        }
        if (parameters is not null)
        {
            request.Parameters.Add(parameters);
        }
        return request;
    }

    /// <summary>A name no other test (or run) uses: lower case, like Kubernetes' pvc-&lt;uid&gt;.</summary>
    public static string UniqueName(string what) => $"csan-{what}-{Guid.NewGuid().ToString("N")[..10]}";
}
