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

/// <summary>ZFS refused a property name or value, or a name (bad value, invalid property, name too long).</summary>
public sealed class ZfsInvalidArgumentException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.InvalidInput);

/// <summary>A new quota is below what the dataset already uses or reserves.</summary>
public sealed class ZfsQuotaBelowUsageException(CommandLine command, int exitCode, string stderr)
    : CommandFailedException(command, exitCode, stderr, ErrorKind.OutOfRange);
