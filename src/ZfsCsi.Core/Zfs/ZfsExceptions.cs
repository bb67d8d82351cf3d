using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Exec;

namespace ZfsCsi.Core.Zfs;

// The zfs/zpool failures the domain acts on. Each keeps the argv, exit code and stderr of the
// command, and its ErrorKind is what a caller sees when the domain does not handle it itself.

public sealed class DatasetNotFoundException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.NotFound);

public sealed class DatasetExistsException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.AlreadyExists);

/// <summary>Mounted and in use, or a mount that zfs-fuse has not released yet.</summary>
public sealed class DatasetBusyException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.FailedPrecondition);

/// <summary>Snapshots, children or clones depend on the dataset.</summary>
public sealed class DatasetHasDependentsException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.FailedPrecondition);

public sealed class ZfsOutOfSpaceException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.OutOfSpace);

/// <summary>No such pool, or the pool is suspended or faulted.</summary>
public sealed class ZfsPoolUnavailableException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.Unavailable);

/// <summary>
/// <c>zpool import</c> found no importable pool of that name in the devices it searched (a wrong name or
/// --import-dir, or disks not attached yet). Unavailable, like a pool that is not imported.
/// </summary>
public sealed class ZfsPoolNotFoundForImportException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.Unavailable);

/// <summary>
/// <c>zpool import</c> refused a pool that was not exported and whose label names another host: only a
/// forced import (-f) would take it, and whether another host still writes to it is the operator's call.
/// </summary>
public sealed class ZfsPoolInUseElsewhereException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.FailedPrecondition);

/// <summary>ZFS refused a property name or value, or a name (bad value, invalid property, name too long).</summary>
public sealed class ZfsInvalidArgumentException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.InvalidInput);

/// <summary>A new quota is below what the dataset already uses or reserves.</summary>
public sealed class ZfsQuotaBelowUsageException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.OutOfRange);
