using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Exec;

/// <summary>A command ran past its timeout and was killed: usually a hung pool or a wedged zfs-fuse daemon.</summary>
public sealed class CommandTimeoutException(CommandLine command, TimeSpan timeout)
    : ZfsCsiException(
        ErrorKind.Timeout,
        $"{command} did not finish within {timeout.TotalSeconds:F0} s and was killed; the pool or the ZFS daemon may be hung"
    )
{
    public CommandLine Command { get; } = command;
    public TimeSpan Timeout { get; } = timeout;
}
