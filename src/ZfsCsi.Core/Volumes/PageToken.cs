using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// A listing continues after the last name it returned, so a token holds that name: stateless,
/// valid across restarts, and unaffected by entries created or deleted between pages. A checksum
/// tells a token this driver issued from anything else (CSI spec, ListVolumes: an unknown
/// starting_token is ABORTED).
/// </summary>
public static class PageToken
{
    public static string Issue(string lastName)
    {
        var body = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastName));
        return $"{body}.{Checksum(body)}";
    }

    /// <summary>The name to continue after; null for an empty token (the first page).</summary>
    public static string? Read(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }
        var dot = token.LastIndexOf('.');
        if (dot > 0 && token.AsSpan(dot + 1).SequenceEqual(Checksum(token[..dot])))
        {
            try
            {
                return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token.AsSpan(0, dot)));
            }
            catch (FormatException)
            {
                // falls through: not a token we issued
            }
        }
        throw new InvalidPageTokenException($"starting_token '{DatasetNameText(token)}' was not issued by this driver; list again from the start without a token");
    }

    private static string Checksum(string body) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("zfs-csi page token\n" + body)))[..12];

    private static string DatasetNameText(string s) => Printable.Of(s, 64);
}
