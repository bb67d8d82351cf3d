using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// Checks a target or volume path from a request (CSI spec: "an absolute path in the root
/// filesystem of the process serving this request"). It must be absolute, canonical (no '.',
/// '..', empty components or control characters) and inside the kubelet directory, so a request
/// can never make the node mount over, or unmount, anything outside the pods' area.
/// </summary>
public static class TargetPath
{
    /// <summary>Linux PATH_MAX; the CSI spec asks for at least 128 bytes.</summary>
    public const int MaxLength = 4095;

    public static string Check(string path, string kubeletDir, string field)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new InvalidInputException($"{field} is required");
        }
        if (path.Length > MaxLength)
        {
            throw new InvalidInputException($"{field} is longer than {MaxLength} bytes");
        }
        if (path[0] != '/')
        {
            throw new InvalidInputException($"{field} '{Printable.Of(path)}' is not an absolute path");
        }
        if (path.Any(char.IsControl))
        {
            throw new InvalidInputException($"{field} '{Printable.Of(path)}' contains control characters");
        }
        var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
        var components = trimmed.Split('/')[1..];
        if (components.Any(c => c is "" or "." or ".."))
        {
            throw new InvalidInputException(
                $"{field} '{Printable.Of(path)}' is not canonical: it has empty, '.' or '..' components"
            );
        }
        var root = kubeletDir.TrimEnd('/');
        if (!trimmed.StartsWith(root + "/", StringComparison.Ordinal))
        {
            throw new InvalidInputException(
                $"{field} '{Printable.Of(path)}' is outside the kubelet directory {root}; the node only mounts there (--kubelet-dir)"
            );
        }
        return trimmed;
    }

    /// <summary>The canonical path, or null when <see cref="Check"/> would refuse it.</summary>
    public static string? TryCheck(string path, string kubeletDir)
    {
        try
        {
            return Check(path, kubeletDir, "path");
        }
        catch (InvalidInputException)
        {
            return null;
        }
    }

    /// <summary>The components of a checked path below the kubelet directory (the walk from its fd).</summary>
    public static IReadOnlyList<string> Below(string checkedPath, string kubeletDir)
    {
        var root = kubeletDir.TrimEnd('/');
        return checkedPath[(root.Length + 1)..].Split('/');
    }
}
