namespace ZfsCsi.Core.Errors;

/// <summary>
/// Text from a request made safe to quote in an error message or a log line: control characters
/// (a newline in a volume name, an escape sequence in a path) are shown as <c>\xNN</c>, so a caller
/// can neither forge log lines nor hide what it sent.
/// </summary>
public static class Printable
{
    public static string Of(string s) =>
        s.Any(char.IsControl) ? string.Concat(s.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString())) : s;

    /// <summary>The same, cut after <paramref name="maxLength"/> characters: a message quotes, it does not echo megabytes.</summary>
    public static string Of(string s, int maxLength) => Of(s.Length > maxLength ? s[..maxLength] + "..." : s);
}
