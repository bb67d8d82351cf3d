using Csi.V1;
using Google.Protobuf.Collections;
using ZfsCsi.Core.Errors;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Driver.Grpc;

/// <summary>
/// Request checks shared by the services. Volumes are directories of a filesystem every node
/// sees, so every access mode the spec defines for mounted volumes is served, single- and
/// multi-node alike; raw block access is not.
/// </summary>
public static class CapabilityChecks
{
    /// <summary>Filesystem types a request may name: none (the default), or zfs itself.</summary>
    private static readonly HashSet<string> FsTypes = new(StringComparer.Ordinal) { "", "zfs" };

    /// <summary>A REQUIRED string field: empty is INVALID_ARGUMENT (CSI spec, "Error Scheme").</summary>
    public static string Required(string value, string field) =>
        string.IsNullOrEmpty(value) ? throw new InvalidInputException($"{field} is required") : value;

    /// <summary>Every capability must be supported; used where the spec says INVALID_ARGUMENT otherwise.</summary>
    public static void RequireSupported(RepeatedField<VolumeCapability> capabilities)
    {
        if (capabilities.Count == 0)
        {
            throw new InvalidInputException("volume_capabilities is required: name at least one access type and mode");
        }
        foreach (var capability in capabilities)
        {
            RequireSupported(capability);
        }
    }

    public static void RequireSupported(VolumeCapability capability)
    {
        if (Unsupported(capability) is { } why)
        {
            throw new InvalidInputException(why);
        }
    }

    /// <summary>
    /// A capability that says what it asks for (an access type and a mode the spec defines), whether
    /// or not this driver serves it: block access or another fs_type are well-formed, just not ours.
    /// </summary>
    public static bool IsWellFormed(VolumeCapability? capability) =>
        capability is { AccessTypeCase: not VolumeCapability.AccessTypeOneofCase.None, AccessMode.Mode: var mode }
        && mode != Mode.Unknown
        && Enum.IsDefined(mode);

    /// <summary>A reader-only access mode (CSI spec: SINGLE_NODE_READER_ONLY, MULTI_NODE_READER_ONLY): nothing published with it may write.</summary>
    public static bool IsReaderOnly(VolumeCapability capability) =>
        capability.AccessMode?.Mode is Mode.SingleNodeReaderOnly or Mode.MultiNodeReaderOnly;

    /// <summary>Why a capability is not served, or null when it is.</summary>
    public static string? Unsupported(VolumeCapability? capability) =>
        capability switch
        {
            null => "a volume capability is empty",
            { AccessTypeCase: VolumeCapability.AccessTypeOneofCase.Block } =>
                "block access is not supported: zfs-csi volumes are filesystems (use volumeMode: Filesystem)",
            { AccessTypeCase: VolumeCapability.AccessTypeOneofCase.None } =>
                "a volume capability names no access type (mount or block)",
            { AccessMode: null } or { AccessMode.Mode: Mode.Unknown } => "a volume capability names no access mode",
            { AccessMode.Mode: var mode } when !Enum.IsDefined(mode) =>
                $"access mode {(int)mode} is not one the CSI spec defines",
            { Mount.FsType: var fsType } when !FsTypes.Contains(fsType) =>
                $"fs_type '{fsType}' is not supported: volumes are ZFS datasets (leave fsType empty or use zfs)",
            _ => null,
        };
}
