using Serilog;
using ZfsCsi.Bootstrap.Progress;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap.Pool;

/// <summary>
/// The pool half of the bootstrap: the pool imported (from the configured device directories) and
/// healthy. Import can mount, so it runs under the machine-wide mount lock the driver takes too
/// (docs/zfs.md, "Mounts and the mount lock": concurrent mounts wedge zfs-fuse). Never forces an import (-f): a pool
/// last used by another host is the operator's decision. What the import mounts is
/// <see cref="BootstrapOptions.ImportMount"/>: in a container, mounts land in the container's own
/// mount namespace, so by default (OpenZFS) it mounts nothing (-N) and the host mounts.
/// </summary>
public sealed class PoolBootstrapper(
    ICommandRunner runner,
    BootstrapOptions options,
    BootstrapProgress progress,
    MountSerializer mounts,
    ILogger logger
)
{
    private readonly ILogger _log = logger.ForContext<PoolBootstrapper>();
    private readonly KeyLoader _keys = new(runner, options, logger);

    /// <summary>
    /// True until the datasets under --import-mount DIR are mounted (retried each check). It starts
    /// true in every process, not only after its own import: a bootstrap restarted while the pool
    /// stays imported must still mount what its predecessor did not get to (mounting only what is
    /// not mounted is idempotent).
    /// </summary>
    private bool _mountsPending = options.ImportMount == ImportMount.Under;

    private TimeSpan ImportLimit => options.MountLockTimeout + options.ImportTimeout;

    /// <summary>--pool as the checked name the argv builders take (BootstrapOptions.Validate has refused anything else).</summary>
    private DatasetName PoolName => DatasetName.Parse(options.Pool);

    /// <summary>Returns (ready, reason); throws <see cref="BootstrapException"/> when the pool cannot be imported or read.</summary>
    public async Task<(bool Ready, string Reason)> EnsureAsync(CancellationToken ct)
    {
        var pool = options.Pool;
        var health = await progress
            .StepAsync(
                BootstrapState.Checking,
                "zpool list",
                $"looking for pool {pool}",
                () => HealthAsync(ct),
                limit: options.CommandTimeout
            )
            .ConfigureAwait(false);
        var note = "";
        if (health is null)
        {
            if (!options.Import)
            {
                progress.Facts(pool: pool, poolHealth: "NOT IMPORTED");
                throw new BootstrapException(
                    "zpool list",
                    $"pool {pool} is not imported, and this bootstrap never imports (--no-import): the host imports it (deploy/systemd/zfs-csi-bootstrap.service, or 'zpool import {pool}')",
                    retryable: true
                );
            }
            await progress
                .StepAsync(
                    BootstrapState.Importing,
                    "zpool import",
                    $"pool {pool} is not imported: importing it",
                    () => ImportAsync(ct),
                    important: true,
                    limit: ImportLimit
                )
                .ConfigureAwait(false);
            health = await HealthAsync(ct).ConfigureAwait(false)
                ?? throw new BootstrapException(
                    "zpool import",
                    $"zpool import {pool} succeeded but the pool is not listed by zpool list",
                    retryable: true
                );
            _mountsPending = options.ImportMount == ImportMount.Under;
            if (options.ImportMount is ImportMount.None or ImportMount.Under)
            {
                note =
                    $" (imported by the bootstrap with -N: {(options.ImportMount == ImportMount.Under ? $"datasets outside {options.MountUnder} are" : "its datasets are")} for the host to mount, e.g. zfs mount -a)";
                _log.Warning(
                    "Imported pool {Pool} without mounting{What}: the host mounts the rest of its datasets (zfs-mount.service or 'zfs mount -a' on the host); "
                        + "mounts made in this container would be seen only inside it",
                    pool,
                    options.ImportMount == ImportMount.Under ? $" outside {options.MountUnder}" : " any dataset"
                );
            }
        }
        // The encrypted volumes' keys, before anything of theirs is mounted (README, "Encryption").
        var keys = await LoadKeysAsync(ct).ConfigureAwait(false);
        if (keys.ToMount.Count > 0)
        {
            await progress
                .StepAsync(
                    BootstrapState.Importing,
                    "zfs mount",
                    $"mounting {keys.ToMount.Count} unlocked dataset(s) of {pool}",
                    () => MountAsync(keys.ToMount, ct),
                    important: true,
                    limit: ImportLimit * keys.ToMount.Count
                )
                .ConfigureAwait(false);
        }
        if (_mountsPending)
        {
            var wanted = await progress
                .StepAsync(
                    BootstrapState.Checking,
                    "zfs list",
                    $"looking for unmounted datasets of {pool} under {options.MountUnder}",
                    () => UnmountedUnderAsync(ct),
                    limit: options.CommandTimeout
                )
                .ConfigureAwait(false);
            // A volume whose key did not load cannot mount: the keys' reason says why, not a mount error.
            wanted = [.. wanted.Where(d => !keys.StillLocked.Contains(d))];
            if (wanted.Count > 0)
            {
                // One lock wait and one mount per dataset: the step's limit grows with the count,
                // so liveness never kills a long but progressing mount of many volumes.
                await progress
                    .StepAsync(
                        BootstrapState.Importing,
                        "zfs mount",
                        $"mounting {wanted.Count} dataset(s) of {pool} under {options.MountUnder}",
                        () => MountAsync(wanted, ct),
                        important: true,
                        limit: ImportLimit * wanted.Count
                    )
                    .ConfigureAwait(false);
            }
            _mountsPending = false;
        }
        var status = await progress
            .StepAsync(
                BootstrapState.Checking,
                "zpool status",
                $"checking the health of {pool}",
                () => StatusAsync(ct),
                limit: options.CommandTimeout
            )
            .ConfigureAwait(false);
        progress.Facts(pool: pool, poolHealth: health);
        var problems = status?.DescribeProblems(pool) ?? "";
        var detail = string.Join(
            "; ",
            new[] { problems, status?.Action is { } a ? "action: " + a : "" }.Where(s => s.Length > 0)
        );
        if (keys.Failures.Count > 0)
        {
            // CSI spec, Probe: not ready while a required dependency is missing. A volume the CO
            // may publish cannot be read without its key, so the driver waits until every key loads.
            return (
                false,
                $"pool {pool} is {health}, but {keys.Failures.Count} encrypted volume key(s) did not load: {string.Join("; ", keys.Failures)}"
            );
        }
        if (keys.Loaded.Count > 0)
        {
            note +=
                $" ({keys.Loaded.Count} encryption key(s) loaded from {options.KeyDirectory}{(options.ImportMount == ImportMount.None ? "; the host mounts their datasets" : "")})";
        }
        return health switch
        {
            "ONLINE" => (true, $"pool {pool} is ONLINE{note}"),
            "DEGRADED" when options.AllowDegraded => (
                true,
                $"pool {pool} is DEGRADED (serving, --allow-degraded): {detail}{note}"
            ),
            _ => (false, $"pool {pool} is {health}{(detail.Length > 0 ? ": " + detail : "")} (zpool status {pool})"),
        };
    }

    /// <summary>The keys step: a listing when key files exist, then one load per locked key (each within the command timeout).</summary>
    private async Task<KeyOutcome> LoadKeysAsync(CancellationToken ct)
    {
        if (!_keys.Applies)
        {
            return KeyOutcome.Nothing;
        }
        var rows = await progress
            .StepAsync(
                BootstrapState.Checking,
                "zfs list",
                $"looking for encrypted volumes of {options.Pool} whose keys are in {options.KeyDirectory}",
                () => _keys.ListAsync(ct),
                limit: options.CommandTimeout
            )
            .ConfigureAwait(false);
        if (rows is null)
        {
            return KeyOutcome.Nothing;
        }
        var locked = _keys.Locked(rows).Count;
        if (locked == 0)
        {
            return await _keys.LoadAsync(rows, ct).ConfigureAwait(false);
        }
        return await progress
            .StepAsync(
                BootstrapState.Importing,
                "zfs load-key",
                $"loading the keys of {locked} encrypted volume(s) of {options.Pool} from {options.KeyDirectory}",
                () => _keys.LoadAsync(rows, ct),
                important: true,
                limit: options.CommandTimeout * locked
            )
            .ConfigureAwait(false);
    }

    private async Task<string?> HealthAsync(CancellationToken ct)
    {
        var command = new CommandLine(options.ZpoolCommand, ZfsArgs.PoolHealth());
        var result = await RunAsync(command, options.CommandTimeout, "zpool list", ct).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new BootstrapException(
                "zpool list",
                $"{command} exited {result.ExitCode}: {result.StandardError.Trim()} (is the ZFS module loaded, or the zfs-fuse daemon running?)",
                retryable: true
            );
        }
        return ZfsParser.ParsePoolHealth(result.StandardOutput).GetValueOrDefault(options.Pool);
    }

    private async Task ImportAsync(CancellationToken ct)
    {
        // Without mounting (-N) when the mounts are not this process's to make (ImportMount None or Under).
        var mount = options.ImportMount is not (ImportMount.None or ImportMount.Under);
        var command = new CommandLine(
            options.ZpoolCommand,
            ZfsArgs.PoolImport(PoolName, options.ImportDirectories, mount)
        );
        var result = await LockedAsync(
                () => RunAsync(command, options.ImportTimeout, "zpool import", ct),
                "zpool import",
                ct
            )
            .ConfigureAwait(false);
        if (result.Succeeded)
        {
            _log.Information(
                "Imported pool {Pool} in {DurationMs:F0} ms",
                options.Pool,
                result.Duration.TotalMilliseconds
            );
            return;
        }
        var stderr = result.StandardError.Trim();
        var where =
            options.ImportDirectories.Count > 0
                ? string.Join(", ", options.ImportDirectories)
                : "zpool's default device search (/dev)";
        switch (ZfsErrors.Classify(command, result))
        {
            case ZfsPoolNotFoundForImportException:
                throw new BootstrapException(
                    "zpool import",
                    $"pool '{options.Pool}' was not found in {where}: check --pool and --import-dir ('zpool import{string.Concat(options.ImportDirectories.Select(d => " -d " + d))}' lists the pools that can be imported there)",
                    retryable: true
                );
            case ZfsPoolInUseElsewhereException:
                throw new BootstrapException(
                    "zpool import",
                    $"{command} exited {result.ExitCode}: {stderr} (the bootstrap never forces an import: make sure no other host uses the pool, then import it by hand)",
                    retryable: true
                );
            default:
                throw new BootstrapException(
                    "zpool import",
                    $"{command} exited {result.ExitCode}: {stderr}",
                    retryable: true
                );
        }
    }

    /// <summary>
    /// After an import with -N: the pool's datasets whose mountpoint is --import-mount DIR or below
    /// and that are not mounted (parents first): DIR is the directory this container shares with the
    /// host, so the mounts reach the host. Datasets elsewhere (the seed's /home/*) are left to the host.
    /// </summary>
    private async Task<IReadOnlyList<string>> UnmountedUnderAsync(CancellationToken ct)
    {
        var list = new CommandLine(options.ZfsCommand, ZfsArgs.ListMounts(PoolName));
        var listed = await RunAsync(list, options.CommandTimeout, "zfs list", ct).ConfigureAwait(false);
        if (!listed.Succeeded)
        {
            throw new BootstrapException(
                "zfs list",
                $"{list} exited {listed.ExitCode}: {listed.StandardError.Trim()}",
                retryable: true
            );
        }
        var under = options.MountUnder.TrimEnd('/');
        return listed
            .StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.TrimEnd('\r').Split('\t'))
            .Where(c =>
                c.Length == 4
                && c[2] == "on"
                && c[3] == "no"
                && (c[1] == under || c[1].StartsWith(under + "/", StringComparison.Ordinal))
            )
            .OrderBy(c => c[1].Count(ch => ch == '/'))
            .ThenBy(c => c[1], StringComparer.Ordinal)
            .Select(c => c[0])
            .ToList();
    }

    /// <summary>zfs mount of each dataset, one at a time under the mount lock.</summary>
    private async Task MountAsync(IReadOnlyList<string> wanted, CancellationToken ct)
    {
        var failed = new List<string>();
        foreach (var dataset in wanted)
        {
            // Names as zfs listed them (any dataset of the pool, spaces included), passed as one argv entry.
            var mount = new CommandLine(options.ZfsCommand, ZfsArgs.MountListed(dataset));
            var result = await LockedAsync(
                    () => RunAsync(mount, options.ImportTimeout, "zfs mount", ct),
                    "zfs mount",
                    ct
                )
                .ConfigureAwait(false);
            if (!result.Succeeded)
            {
                failed.Add($"{dataset}: {result.StandardError.Trim()}");
            }
        }
        if (failed.Count > 0)
        {
            throw new BootstrapException(
                "zfs mount",
                $"could not mount {string.Join("; ", failed)} (retried at the next check)",
                retryable: true
            );
        }
        _log.Information(
            "Mounted {Count} dataset(s) of pool {Pool} under {MountUnder}",
            wanted.Count,
            options.Pool,
            options.MountUnder
        );
    }

    private async Task<PoolStatus?> StatusAsync(CancellationToken ct)
    {
        var result = await RunAsync(
                new CommandLine(options.ZpoolCommand, ZfsArgs.PoolStatus(PoolName)),
                options.CommandTimeout,
                "zpool status",
                ct
            )
            .ConfigureAwait(false);
        if (!result.Succeeded)
        {
            _log.Warning(
                "zpool status {Pool} exited {ExitCode}: {StandardError}",
                options.Pool,
                result.ExitCode,
                result.StandardError.Trim()
            );
            return null;
        }
        return PoolStatus.Parse(result.StandardOutput);
    }

    /// <summary>Under the machine-wide mount lock; a lock held elsewhere for longer than --mount-lock-timeout fails the step (retried next check).</summary>
    private async Task<T> LockedAsync<T>(Func<Task<T>> action, string step, CancellationToken ct)
    {
        try
        {
            return await mounts.RunAsync(action, ct).ConfigureAwait(false);
        }
        catch (ZfsCsiException e) when (e.Kind == ErrorKind.Timeout)
        {
            throw new BootstrapException(step, e.Message, retryable: true, e);
        }
    }

    private async Task<CommandResult> RunAsync(CommandLine command, TimeSpan timeout, string step, CancellationToken ct)
    {
        try
        {
            return await runner.RunAsync(command, timeout, ct).ConfigureAwait(false);
        }
        catch (CommandTimeoutException e)
        {
            throw new BootstrapException(step, e.Message, retryable: true, e);
        }
        catch (CommandFailedException e)
        {
            throw new BootstrapException(step, $"{e.Message} (is zfs installed?)", retryable: false, e);
        }
    }
}
