using System.Text;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// The rules the CSI spec sets for the names a CO gives volumes, snapshots and group snapshots
/// (CreateVolumeRequest.name, CreateSnapshotRequest.name, CreateVolumeGroupSnapshotRequest.name):
/// required, at most 128 bytes (Size Limits), and any Unicode except the banned control characters
/// U+0000-U+0008, U+000B, U+000C, U+000E-U+001F and U+007F-U+009F. Tab, newline and carriage
/// return stay allowed, as the spec allows them. Whatever passes is mapped to a ZFS name, never
/// used as one.
/// </summary>
public static class CsiName
{
    public const int MaxBytes = 128;

    /// <param name="what">What is being named, for the message: "volume", "snapshot", "group snapshot".</param>
    public static void Validate(string name, string what)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new InvalidInputException(
                $"name is required: the CO names every {what} it creates (CSI spec, Create{Rpc(what)})"
            );
        }
        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxBytes)
        {
            throw new InvalidInputException(
                $"{what} name is {bytes} bytes; the CSI spec allows at most {MaxBytes} (Size Limits)"
            );
        }
        foreach (var c in name.Where(IsBanned).Take(1))
        {
            throw new InvalidInputException(
                $"{what} name '{Printable.Of(name)}' contains the control character U+{(int)c:X4}, which the CSI spec bans in names (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+007F-U+009F)"
            );
        }
    }

    private static bool IsBanned(char c) =>
        c is <= '\u0008' or '\u000B' or '\u000C' or (>= '\u000E' and <= '\u001F') or (>= '\u007F' and <= '\u009F');

    private static string Rpc(string what) =>
        what switch
        {
            "snapshot" => "Snapshot",
            "group snapshot" => "VolumeGroupSnapshot",
            _ => "Volume",
        };
}
