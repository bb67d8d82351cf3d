using ZfsCsi.Core.Exec;

namespace ZfsCsi.Core.Zfs;

/// <summary>
/// Turns a failed zfs/zpool command into the typed exception its stderr describes.
/// Pure: the texts are those of OpenZFS 2.x and zfs-fuse 0.7 (docs/zfs.md, "Error texts").
/// </summary>
public static class ZfsErrors
{
    // Checked in order: the first match wins. Lower-case substrings of stderr.
    private static readonly (string Text, Func<CommandLine, int, string, CommandFailedException> Make)[] Patterns =
    [
        // Before "no such pool": zpool import found no pool of that name ("cannot import 'p': no such pool available").
        ("no such pool available", (c, e, s) => new ZfsPoolNotFoundForImportException(c, e, s)),
        ("no such pool", (c, e, s) => new ZfsPoolUnavailableException(c, e, s)),
        // zpool import of a pool not exported, last used by another hostid. zfs-fuse: "pool may be in use
        // from other system, it was last accessed by …", OpenZFS: "pool was previously in use from another
        // system.", each followed by its hint to use -f.
        ("in use from", (c, e, s) => new ZfsPoolInUseElsewhereException(c, e, s)),
        ("pool i/o is currently suspended", (c, e, s) => new ZfsPoolUnavailableException(c, e, s)),
        ("is currently unavailable", (c, e, s) => new ZfsPoolUnavailableException(c, e, s)),
        ("dataset does not exist", (c, e, s) => new DatasetNotFoundException(c, e, s)),
        ("could not find any snapshots to destroy", (c, e, s) => new DatasetNotFoundException(c, e, s)),
        ("dataset already exists", (c, e, s) => new DatasetExistsException(c, e, s)),
        ("is busy", (c, e, s) => new DatasetBusyException(c, e, s)),
        ("has children", (c, e, s) => new DatasetHasDependentsException(c, e, s)),
        ("dependent clones", (c, e, s) => new DatasetHasDependentsException(c, e, s)),
        ("size is less than current used or reserved space", (c, e, s) => new ZfsQuotaBelowUsageException(c, e, s)),
        ("out of space", (c, e, s) => new ZfsOutOfSpaceException(c, e, s)),
        ("size is greater than available space", (c, e, s) => new ZfsOutOfSpaceException(c, e, s)),
        ("bad property value", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        ("bad numeric value", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        ("invalid property", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        ("must be one of", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        // "'recordsize' must be power of 2 from 512 to 128k" (zfs-fuse), "... from 512B to 1M" (OpenZFS).
        ("must be power of 2", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        ("invalid character", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        ("name is too long", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        ("use 'none' to disable", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        // "cannot create 'p/x': 'used' is readonly": a property ZFS computes, given as a parameter.
        ("is readonly", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        ("does not apply to datasets of this type", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        // A user property value over ZFS's 8 KiB: OpenZFS 2.3 "property value too long", zfs-fuse 0.7
        // "internal error: Argument list too long" (E2BIG from its ioctl); both seen in ZfsErrorCases.
        ("property value too long", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
        ("argument list too long", (c, e, s) => new ZfsInvalidArgumentException(c, e, s)),
    ];

    /// <summary>Every text the table recognises, in the order it is checked (each has a test on both backends: tests/…/ZfsCommands).</summary>
    public static IReadOnlyList<string> Texts { get; } = [.. Patterns.Select(p => p.Text)];

    /// <summary>The exception for a failed <paramref name="command"/>; a plain <see cref="CommandFailedException"/> when the text is not recognised.</summary>
    public static CommandFailedException Classify(CommandLine command, CommandResult result)
    {
        var stderr = result.StandardError;
        var lower = stderr.ToLowerInvariant();
        foreach (var (text, make) in Patterns)
        {
            if (lower.Contains(text, StringComparison.Ordinal))
            {
                return make(command, result.ExitCode, stderr);
            }
        }
        return new CommandFailedException(command, result.ExitCode, stderr);
    }
}
