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
    /// <summary>CSI spec, List* RPCs: max_entries 0 means no limit, a negative one is INVALID_ARGUMENT. Checked before anything is read.</summary>
    public static void CheckMaxEntries(int maxEntries)
    {
        if (maxEntries < 0)
        {
            throw new InvalidInputException($"max_entries is {maxEntries}; it must be 0 (no limit) or more");
        }
    }

    /// <summary>
    /// One page of <paramref name="items"/>: those whose key comes after the token's name, in
    /// ordinal key order, at most <paramref name="maxEntries"/> (0: all), and the token of the next
    /// page, or null when this page is the last.
    /// </summary>
    public static (IReadOnlyList<T> Items, string? Next) Page<T>(
        IEnumerable<T> items,
        Func<T, string> keyOf,
        string? startingToken,
        int maxEntries
    )
    {
        var after = Read(startingToken);
        var all = items
            .Where(i => after is null || string.CompareOrdinal(keyOf(i), after) > 0)
            .OrderBy(keyOf, StringComparer.Ordinal)
            .ToList();
        if (maxEntries > 0 && all.Count > maxEntries)
        {
            var page = all.Take(maxEntries).ToList();
            return (page, Issue(keyOf(page[^1])));
        }
        return (all, null);
    }

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
        throw new InvalidPageTokenException(
            $"starting_token '{DatasetNameText(token)}' was not issued by this driver; list again from the start without a token"
        );
    }

    private static string Checksum(string body) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("zfs-csi page token\n" + body)))[..12];

    private static string DatasetNameText(string s) => Printable.Of(s, 64);
}
