namespace ZfsCsi.Core.Exec;

/// <summary>
/// Runs external commands. Every zfs, zpool, mount and ssh call goes through one implementation,
/// so tests can assert the exact argv and logs show each command with its duration and exit code.
/// </summary>
public interface ICommandRunner
{
    /// <summary>Runs <paramref name="command"/> and returns its result whatever its exit code.</summary>
    /// <exception cref="CommandTimeoutException">The command ran past <paramref name="timeout"/> and was killed.</exception>
    /// <exception cref="CommandFailedException">The program could not be started.</exception>
    Task<CommandResult> RunAsync(CommandLine command, TimeSpan timeout, CancellationToken cancellationToken = default);
}
