using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Exec;

namespace ZfsCsi.Core.Bootstrap;

/// <summary>
/// The driver's command runner when a bootstrap gates it (<c>--bootstrap-status-file</c>): a zfs or
/// zpool command runs only while the bootstrap says ready, and otherwise fails with
/// <see cref="StorageNotReadyException"/> (gRPC UNAVAILABLE: the CO retries) before anything starts.
/// On OpenZFS any zfs or zpool command opens /dev/zfs, and the kernel loads the zfs module for it:
/// an RPC that ran one while the bootstrap was still checking or rebuilding the module would load
/// whatever module is installed, of whatever release, behind its back. Other programs (ssh, mount)
/// pass through.
/// </summary>
public sealed class BootstrapGatedRunner(
    ICommandRunner inner,
    BootstrapReadiness bootstrap,
    IReadOnlySet<string> gatedPrograms
) : ICommandRunner
{
    public async Task<CommandResult> RunAsync(
        CommandLine command,
        TimeSpan timeout,
        CancellationToken cancellationToken = default
    )
    {
        await RequireReadyAsync(command, cancellationToken).ConfigureAwait(false);
        return await inner.RunAsync(command, timeout, cancellationToken).ConfigureAwait(false);
    }

    public async Task<CommandResult> RunStreamingAsync(
        CommandLine command,
        TimeSpan timeout,
        Action<string> onOutputLine,
        CancellationToken cancellationToken = default
    )
    {
        await RequireReadyAsync(command, cancellationToken).ConfigureAwait(false);
        return await inner.RunStreamingAsync(command, timeout, onOutputLine, cancellationToken).ConfigureAwait(false);
    }

    private async Task RequireReadyAsync(CommandLine command, CancellationToken ct)
    {
        if (!gatedPrograms.Contains(command.Program))
        {
            return;
        }
        var readiness = await bootstrap.CheckAsync(ct).ConfigureAwait(false);
        if (!readiness.Ready)
        {
            throw new StorageNotReadyException(
                $"the storage host is not ready ({readiness.Reason}); no ZFS command runs until the bootstrap reports ready: retry later"
            );
        }
    }
}

/// <summary>The bootstrap has not made the storage host ready (module loaded, pool imported): UNAVAILABLE, retry later.</summary>
public sealed class StorageNotReadyException(string message) : ZfsCsiException(ErrorKind.Unavailable, message);
