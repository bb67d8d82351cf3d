using Serilog;
using ZfsCsi.Bootstrap.Progress;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap.Module;

/// <summary>
/// The kernel-module half of the bootstrap: a ZFS module built for exactly the running kernel,
/// installed, loaded, and the same release as the userland tools. Rebuilds from the configured
/// source tree when not (the seed's novix script, made safe: headers of the running kernel only,
/// one build at a time, retries with backoff, nothing loaded after a failed build).
/// </summary>
public sealed partial class ModuleBootstrapper(ICommandRunner runner, BootstrapOptions options, BootstrapProgress progress, ILogger logger)
{
    private readonly ILogger _log = logger.ForContext<ModuleBootstrapper>();
    private int _failedBuilds;
    private DateTimeOffset _nextBuildAllowed = DateTimeOffset.MinValue;

    /// <summary>Checks and repairs; returns a one-line summary or throws <see cref="BootstrapException"/>.</summary>
    public async Task<string> EnsureAsync(CancellationToken ct)
    {
        if (options.Module == ModuleMode.None)
        {
            return "module check skipped (--module none: zfs-fuse runs in user space, there is no kernel module)";
        }
        var release = await progress.StepAsync(BootstrapState.Checking, "uname -r", "reading the running kernel", () => UnameAsync(ct)).ConfigureAwait(false);
        progress.Facts(kernelRelease: release);
        var state = await progress.StepAsync(BootstrapState.Checking, "inspect module", $"checking the zfs module for kernel {release}", () => InspectAsync(release, ct)).ConfigureAwait(false);
        if (state.NeedsBuild)
        {
            state = await BuildUnderLockAsync(state, ct).ConfigureAwait(false);
        }
        if (state.Userland is null)
        {
            throw new BootstrapException("zfs version",
                $"cannot read the ZFS userland version, so the module ({state.Installed}) cannot be checked against it: {state.UserlandError}. "
                + "With zfs-fuse pass --module none; with OpenZFS install its userland tools (zfs version must work)");
        }
        if (state.Loaded is null)
        {
            await progress.StepAsync(BootstrapState.Checking, "modprobe zfs", $"loading zfs {state.Installed} for kernel {release}",
                () => RequireAsync(new CommandLine(options.Modprobe, "zfs"), options.CommandTimeout, "modprobe zfs", retryable: true, ct)).ConfigureAwait(false);
            state = state with { Loaded = ReadLoadedVersion() };
            if (state.Loaded is null)
            {
                throw new BootstrapException("modprobe zfs", $"modprobe zfs succeeded but {LoadedVersionPath} does not exist: the module did not load; see dmesg", retryable: true);
            }
        }
        progress.Facts(moduleVersion: state.Loaded);
        if (!ZfsVersion.SameRelease(state.Loaded, state.Userland))
        {
            // Unloading a module under imported pools is the operator's call, never the bootstrap's.
            throw new BootstrapException("verify module",
                $"the loaded zfs module is {state.Loaded} but the userland tools are {state.Userland} (installed module: {state.Installed}): "
                + "a mismatch is a known cause of hangs and data loss; export the pools and run 'modprobe -r zfs && modprobe zfs', or reboot");
        }
        return $"zfs module {state.Loaded} loaded for kernel {release}, matching userland {state.Userland}";
    }

    private async Task<ModuleState> BuildUnderLockAsync(ModuleState state, CancellationToken ct)
    {
        _log.Information("The zfs module needs a rebuild: {ModuleState}", state.Describe());
        if (options.SourceTree.Length == 0)
        {
            throw new BootstrapException("rebuild",
                $"the zfs module must be rebuilt ({state.Describe()}) but no --source tree is configured: pass --source /path/to/zfs-source");
        }
        var now = DateTimeOffset.UtcNow;
        if (now < _nextBuildAllowed)
        {
            throw new BootstrapException("rebuild",
                $"the last rebuild failed {_failedBuilds} time(s); next attempt after {_nextBuildAllowed:HH:mm:ss} UTC ({state.Describe()})", retryable: true);
        }
        // Fail fast, before waiting for the lock: without the running kernel's headers no build can work.
        var headers = KernelHeaders.Find(options.ModulesDirectory, state.Release);
        foreach (var other in KernelHeaders.OtherReleasesWithHeaders(options.ModulesDirectory, state.Release))
        {
            _log.Information("Headers for kernel {OtherRelease} are installed too; building for the running kernel {Release} only (after a reboot into {OtherRelease} the bootstrap builds for it)",
                other, state.Release, other);
        }
        using var buildLock = await progress.StepAsync(BootstrapState.Rebuilding, "build lock", $"waiting for {options.BuildLockFile} (another bootstrap may be building)",
            () => MountSerializer.FileLock.AcquireAsync(options.BuildLockFile, ct), important: true).ConfigureAwait(false);
        // Another bootstrap may have built while this one waited for the lock.
        state = await InspectAsync(state.Release, ct).ConfigureAwait(false);
        if (!state.NeedsBuild)
        {
            _log.Information("Another bootstrap rebuilt the module meanwhile: {ModuleState}", state.Describe());
            return state;
        }
        try
        {
            await BuildWithRetriesAsync(headers, ct).ConfigureAwait(false);
            _failedBuilds = 0;
            _nextBuildAllowed = DateTimeOffset.MinValue;
        }
        catch (BootstrapException)
        {
            _failedBuilds++;
            // In watch mode the next cycle must not start another long build at once.
            _nextBuildAllowed = DateTimeOffset.UtcNow + options.RetryDelay * Math.Pow(2, Math.Min(_failedBuilds + options.BuildAttempts - 1, 10));
            throw;
        }
        state = await InspectAsync(state.Release, ct).ConfigureAwait(false);
        if (state.NeedsBuild)
        {
            throw new BootstrapException("verify module",
                $"rebuilt and installed from {options.SourceTree}, but the module for {state.Release} is still {state.Installed ?? "missing"} while the userland is {state.Userland}: "
                + "the source tree is a different ZFS release than the installed tools; check out the matching release or reinstall the tools");
        }
        return state;
    }
}
