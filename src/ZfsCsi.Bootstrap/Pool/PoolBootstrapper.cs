using Serilog;
using ZfsCsi.Bootstrap.Progress;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap.Pool;

/// <summary>
/// The pool half of the bootstrap: the pool imported (from the configured device directories) and
/// healthy. Import mounts the pool's datasets, so it runs under the machine-wide mount lock the
/// driver takes too (shared/notes/zfs.md: concurrent mounts wedge zfs-fuse). Never forces an
/// import (-f): a pool last used by another host is the operator's decision.
/// </summary>
public sealed class PoolBootstrapper(ICommandRunner runner, BootstrapOptions options, BootstrapProgress progress, MountSerializer mounts, ILogger logger)
{
    private readonly ILogger _log = logger.ForContext<PoolBootstrapper>();

    /// <summary>Returns (ready, reason); throws <see cref="BootstrapException"/> when the pool cannot be imported or read.</summary>
    public async Task<(bool Ready, string Reason)> EnsureAsync(CancellationToken ct)
    {
        var pool = options.Pool;
        var health = await progress.StepAsync(BootstrapState.Checking, "zpool list", $"looking for pool {pool}", () => HealthAsync(ct)).ConfigureAwait(false);
        if (health is null)
        {
            if (!options.Import)
            {
                progress.Facts(pool: pool, poolHealth: "NOT IMPORTED");
                throw new BootstrapException("zpool list", $"pool {pool} is not imported (--no-import: import it with 'zpool import {pool}')", retryable: true);
            }
            await progress.StepAsync(BootstrapState.Importing, "zpool import", $"pool {pool} is not imported: importing it", () => ImportAsync(ct), important: true).ConfigureAwait(false);
            health = await HealthAsync(ct).ConfigureAwait(false)
                ?? throw new BootstrapException("zpool import", $"zpool import {pool} succeeded but the pool is not listed by zpool list", retryable: true);
        }
        var status = await progress.StepAsync(BootstrapState.Checking, "zpool status", $"checking the health of {pool}", () => StatusAsync(ct)).ConfigureAwait(false);
        progress.Facts(pool: pool, poolHealth: health);
        var problems = status?.DescribeProblems(pool) ?? "";
        var detail = string.Join("; ", new[] { problems, status?.Action is { } a ? "action: " + a : "" }.Where(s => s.Length > 0));
        return health switch
        {
            "ONLINE" => (true, $"pool {pool} is ONLINE"),
            "DEGRADED" when options.AllowDegraded => (true, $"pool {pool} is DEGRADED (serving, --allow-degraded): {detail}"),
            _ => (false, $"pool {pool} is {health}{(detail.Length > 0 ? ": " + detail : "")} (zpool status {pool})"),
        };
    }

    private async Task<string?> HealthAsync(CancellationToken ct)
    {
        var command = new CommandLine(options.ZpoolCommand, "list", "-H", "-o", "name,health");
        var result = await RunAsync(command, options.CommandTimeout, "zpool list", ct).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new BootstrapException("zpool list", $"{command} exited {result.ExitCode}: {result.StandardError.Trim()} (is the ZFS module loaded, or the zfs-fuse daemon running?)", retryable: true);
        }
        return ZfsParser.ParsePoolHealth(result.StandardOutput).GetValueOrDefault(options.Pool);
    }

    private async Task ImportAsync(CancellationToken ct)
    {
        List<string> args = ["import"];
        foreach (var dir in options.ImportDirectories)
        {
            args.AddRange(["-d", dir]);
        }
        args.Add(options.Pool);
        var command = new CommandLine(options.ZpoolCommand, args);
        var result = await mounts.RunAsync(() => RunAsync(command, options.ImportTimeout, "zpool import", ct), ct).ConfigureAwait(false);
        if (result.Succeeded)
        {
            _log.Information("Imported pool {Pool} in {DurationMs:F0} ms", options.Pool, result.Duration.TotalMilliseconds);
            return;
        }
        var stderr = result.StandardError.Trim();
        var where = options.ImportDirectories.Count > 0 ? string.Join(", ", options.ImportDirectories) : "zpool's default device search (/dev)";
        if (stderr.Contains("no such pool available", StringComparison.OrdinalIgnoreCase))
        {
            throw new BootstrapException("zpool import",
                $"pool '{options.Pool}' was not found in {where}: check --pool and --import-dir ('zpool import{string.Concat(options.ImportDirectories.Select(d => " -d " + d))}' lists the pools that can be imported there)",
                retryable: true);
        }
        throw new BootstrapException("zpool import",
            $"{command} exited {result.ExitCode}: {stderr}" + (stderr.Contains("-f", StringComparison.Ordinal)
                ? " (the bootstrap never forces an import: make sure no other host uses the pool, then import it by hand)" : ""),
            retryable: true);
    }

    private async Task<PoolStatus?> StatusAsync(CancellationToken ct)
    {
        var result = await RunAsync(new CommandLine(options.ZpoolCommand, "status", options.Pool), options.CommandTimeout, "zpool status", ct).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            _log.Warning("zpool status {Pool} exited {ExitCode}: {StandardError}", options.Pool, result.ExitCode, result.StandardError.Trim());
            return null;
        }
        return PoolStatus.Parse(result.StandardOutput);
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
