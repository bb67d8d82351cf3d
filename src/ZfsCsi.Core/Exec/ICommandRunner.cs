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

    /// <summary>
    /// Like <see cref="RunAsync"/>, and also hands each line of stdout and stderr to
    /// <paramref name="onOutputLine"/> as it is printed, for long commands (a kernel module build)
    /// whose progress must show while they run. The result still carries the whole output.
    /// The default replays the lines after the command ends, for runners that cannot stream.
    /// </summary>
    async Task<CommandResult> RunStreamingAsync(
        CommandLine command,
        TimeSpan timeout,
        Action<string> onOutputLine,
        CancellationToken cancellationToken = default
    )
    {
        var result = await RunAsync(command, timeout, cancellationToken).ConfigureAwait(false);
        foreach (
            var line in (result.StandardOutput + result.StandardError).Split(
                '\n',
                StringSplitOptions.RemoveEmptyEntries
            )
        )
        {
            onOutputLine(line.TrimEnd('\r'));
        }
        return result;
    }
}
