using System.Security.Cryptography;
using System.Text;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// Maps a CSI name (any UTF-8 string, CSI spec "CreateVolume": names are opaque to the CO) to the
/// leaf of the volume's dataset. Names Kubernetes generates (<c>pvc-&lt;uuid&gt;</c>) are kept as they
/// are, so /data/k8s/pvc-... stays readable; anything else becomes <c>h-</c> and a SHA-256 digest,
/// so '/', '..', quotes or control characters never reach ZFS or a path. The mapping is a pure
/// function of the name: a retry always lands on the same dataset without any lookup table.
/// </summary>
public static class VolumeNaming
{
    /// <summary>Longest name kept as it is; also caps the leaf, so parent + leaf fits CSI's 128-byte id.</summary>
    public const int MaxPlainLength = 63;

    /// <summary>CSI spec, "Size Limits": a string field is at most 128 bytes unless its description says otherwise.</summary>
    public const int MaxNameBytes = CsiName.MaxBytes;

    public static string LeafFor(string name)
    {
        CsiName.Validate(name, "volume");
        return IsPlain(name)
            ? name
            : "h-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..32];
    }

    /// <summary>Lower-case letters, digits, '-', '_' and '.', starting with a letter or digit: safe as a leaf and as a path component.</summary>
    public static bool IsPlain(string name) =>
        name.Length is > 0 and <= MaxPlainLength
        && char.IsAsciiLetterLower(name[0]) | char.IsAsciiDigit(name[0])
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.');
}
