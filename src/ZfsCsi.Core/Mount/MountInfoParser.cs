using System.Globalization;
using System.Text;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// Parses /proc/self/mountinfo (proc(5)). Pure: tests feed it captured text. Paths are escaped by
/// the kernel (space \040, tab \011, newline \012, backslash \134) and unescaped here; optional
/// fields end at the lone "-" separator.
/// </summary>
public static class MountInfoParser
{
    public const string SelfPath = "/proc/self/mountinfo";

    public static IReadOnlyList<MountEntry> Parse(string text)
    {
        var entries = new List<MountEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (TryParseLine(line, out var entry))
            {
                entries.Add(entry);
            }
        }
        return entries;
    }

    public static bool TryParseLine(string line, out MountEntry entry)
    {
        entry = null!;
        var fields = line.Split(' ');
        // At least: id parent dev root mountpoint options - fstype source.
        if (fields.Length < 9)
        {
            return false;
        }
        var separator = Array.IndexOf(fields, "-", 6);
        if (separator < 0 || separator + 2 >= fields.Length)
        {
            return false;
        }
        if (
            !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent)
        )
        {
            return false;
        }
        entry = new MountEntry(
            id,
            parent,
            fields[2],
            Unescape(fields[3]),
            Unescape(fields[4]),
            Options(fields[5]),
            Unescape(fields[separator + 1]),
            Unescape(fields[separator + 2]),
            separator + 3 < fields.Length ? Options(fields[separator + 3]) : new HashSet<string>()
        );
        return true;
    }

    /// <summary>Reverses the kernel's octal escapes (\ooo) in mountinfo paths.</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1) && IsOctal(field, i + 2) && IsOctal(field, i + 3))
            {
                bytes.Add((byte)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(string s, int i) => i < s.Length && s[i] is >= '0' and <= '7';

    private static HashSet<string> Options(string field) =>
        new(field.Split(',', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
}
