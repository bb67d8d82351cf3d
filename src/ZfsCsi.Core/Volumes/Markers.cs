using System.Buffers.Text;
using System.Text;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// The driver's ZFS user properties. They are set in the same <c>zfs create</c> that makes a
/// dataset and read back with <c>-s local</c> semantics only, so an inherited value (or one set by
/// another tool) never makes a dataset look like one of ours. They are the driver's only state:
/// idempotency by name needs no external store.
/// </summary>
public static class Markers
{
    /// <summary>The module part of every property the driver owns (ZFS user properties need a ':').</summary>
    public const string Prefix = "zfs-csi:";

    /// <summary>The CSI name the volume was created for, base64url-encoded (names may hold tabs or newlines, which break -H output).</summary>
    public const string CsiName = Prefix + "name";

    /// <summary>A digest of the StorageClass parameters, to tell a compatible retry from a conflicting request.</summary>
    public const string ParametersDigest = Prefix + "parameters";

    /// <summary><see cref="StateCreating"/> from the create until every finishing step is done, then <see cref="StateReady"/>.</summary>
    public const string State = Prefix + "state";

    public const string StateCreating = "creating";
    public const string StateReady = "ready";

    /// <summary>
    /// A deleted volume kept, unmounted and canmount=off, only because snapshots or clones still
    /// need its blocks; never listed, destroyed by the sweep once nothing depends on it.
    /// </summary>
    public const string StateDeleted = "deleted";

    /// <summary>On a snapshot: the driver's own source of a volume-to-volume clone, never a CSI snapshot.</summary>
    public const string StateHidden = "hidden";

    /// <summary>On a snapshot: the source volume's capacity when it was taken, the size a restore needs.</summary>
    public const string Capacity = Prefix + "capacity";

    /// <summary>On a snapshot: the CSI name of the volume group snapshot it belongs to (base64url).</summary>
    public const string Group = Prefix + "group";

    /// <summary>
    /// On a CSI snapshot: its id; on a snapshot name's claim (<see cref="Snapshots.SnapshotNaming.ClaimLeafFor"/>):
    /// the id of the snapshot that holds the name. Both get it from the same <c>zfs snapshot -o</c>.
    /// </summary>
    public const string SnapshotId = Prefix + "snapshot-id";

    /// <summary>On a volume: its content source, <c>snapshot:&lt;id&gt;</c> or <c>volume:&lt;id&gt;</c>.</summary>
    public const string Source = Prefix + "source";

    /// <summary>
    /// On a volume: the mutable parameters it has (a VolumeAttributesClass's, given to CreateVolume or
    /// ControllerModifyVolume), as canonical <c>key=value</c> lines, base64url-encoded
    /// (<see cref="MutableParameters.Encode"/>). Absent: none were ever given.
    /// </summary>
    public const string Mutable = Prefix + "mutable";

    /// <summary>
    /// On a volume: <see cref="ViewOn"/> when it is a read-only view of its source snapshot
    /// (CreateVolume with reader-only access modes, or the StorageClass's <c>view: always</c>), set by
    /// the same <c>zfs clone</c> as <c>readonly=on</c>. Such a volume is never expanded or published
    /// read-write; its capacity is the snapshot's size.
    /// </summary>
    public const string View = Prefix + "view";

    public const string ViewOn = "on";

    public static string EncodeName(string name) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(name));

    /// <summary>The decoded name, or null when the value is not one the driver wrote.</summary>
    public static string? DecodeName(string? value)
    {
        if (value is null)
        {
            return null;
        }
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value.AsSpan()));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
