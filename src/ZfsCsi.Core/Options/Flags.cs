namespace ZfsCsi.Core.Options;

/// <summary>The flag syntax the zfs-csi programs share: <c>--key value</c> or <c>--key=value</c>.</summary>
public static class Flags
{
    /// <summary>
    /// Reads the flag at <paramref name="i"/> (moving past its value); false when the argument is not
    /// a <c>--key</c> with a value, which each program reports in its own words.
    /// </summary>
    public static bool TryRead(IReadOnlyList<string> args, ref int i, out string key, out string value)
    {
        var arg = args[i];
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
        {
            (key, value) = (arg[..eq], arg[(eq + 1)..]);
            return true;
        }
        if (arg.StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Count)
        {
            (key, value) = (arg, args[++i]);
            return true;
        }
        (key, value) = ("", "");
        return false;
    }
}
