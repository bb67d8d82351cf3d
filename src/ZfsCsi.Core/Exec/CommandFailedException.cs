using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Exec;

/// <summary>
/// A command exited non-zero. Carries argv, exit code and stderr; subclasses name the failures
/// the domain recognises (see <c>ZfsErrors</c>), this class itself is an unexpected failure.
/// </summary>
public class CommandFailedException(
    CommandLine command,
    int exitCode,
    string standardError,
    ErrorKind kind = ErrorKind.Internal,
    string? message = null
) : ZfsCsiException(kind, message ?? $"{standardError.Trim()} ({command} exited {exitCode})")
{
    public CommandLine Command { get; } = command;
    public int ExitCode { get; } = exitCode;
    public string StandardError { get; } = standardError;
}
