using Serilog;
using ZfsCsi.Bootstrap.Progress;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap.Module;

/// <summary>
/// The kernel-module half of the bootstrap: a ZFS module built for exactly the running kernel,
/// installed, loaded, and the same release as the userland tools. Loads an installed module that
/// matches (a normal boot); rebuilds from the configured source tree only when nothing is loaded
/// and nothing that matches is installed (the seed's novix script, made safe: headers of the
/// running kernel only, one build at a time, retries with backoff, the previous module files put
/// back when an install fails, nothing loaded after a failed build). A loaded module is never
/// rebuilt over nor unloaded: a mismatch with it is reported for the operator.
/// </summary>
public sealed partial class ModuleBootstrapper(
    ICommandRunner runner,
    BootstrapOptions options,
    BootstrapProgress progress,
    ILogger logger
)
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
        var release = await progress
            .StepAsync(
                BootstrapState.Checking,
                "uname -r",
                "reading the running kernel",
                () => UnameAsync(ct),
                limit: options.CommandTimeout
            )
            .ConfigureAwait(false);
        progress.Facts(kernelRelease: release);
        if (ModuleBackup.Exists(options.ModulesDirectory, release))
        {
            await RecoverInterruptedInstallAsync(release, ct).ConfigureAwait(false);
        }
        var state = await progress
            .StepAsync(
                BootstrapState.Checking,
                "inspect module",
                $"checking the zfs module for kernel {release}",
                () => InspectAsync(release, ct),
                limit: options.CommandTimeout * 2
            )
            .ConfigureAwait(false);
        if (state.Loaded is not null)
        {
            // With the module loaded, only the tools' own answer counts (never the tree's META).
            return VerifyLoaded(state.UserlandFrom == ZfsVersionCommand ? state : state with { Userland = null });
        }
        if (state.NeedsBuild)
        {
            RefuseUselessBuild(state);
            state = await BuildUnderLockAsync(state, ct).ConfigureAwait(false);
        }
        if (state.Userland is null)
        {
            throw new BootstrapException(
                "zfs --version",
                $"cannot read the ZFS userland version, so the module ({state.Installed}) cannot be checked against it: {state.UserlandError}. "
                    + "With zfs-fuse pass --module none; with OpenZFS install its userland tools ('zfs --version' must print zfs-X.Y.Z), or pass --source with the tree they came from"
            );
        }
        var loadStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        await progress
            .StepAsync(
                BootstrapState.Checking,
                "modprobe zfs",
                $"loading zfs {state.Installed} for kernel {release}",
                () =>
                    RequireAsync(
                        new CommandLine(options.Modprobe, "zfs"),
                        options.CommandTimeout,
                        "modprobe zfs",
                        retryable: true,
                        ct
                    ),
                limit: options.CommandTimeout
            )
            .ConfigureAwait(false);
        progress.ModuleLoaded(System.Diagnostics.Stopwatch.GetElapsedTime(loadStarted));
        var loaded = ReadLoadedVersion()
            ?? throw new BootstrapException(
                "modprobe zfs",
                $"modprobe zfs succeeded but {LoadedVersionPath} does not exist: the module did not load; see dmesg",
                retryable: true
            );
        // Now the module is loaded, zfs --version answers for the tools themselves: trust it over META.
        var (userland, _) = await ReadUserlandAsync(ct).ConfigureAwait(false);
        return VerifyLoaded(
            state with
            {
                Loaded = loaded,
                Userland = userland ?? state.Userland,
                UserlandFrom = userland is not null ? ZfsVersionCommand : state.UserlandFrom,
            }
        );
    }

    /// <summary>The module is loaded: it must be the tools' release. Never rebuilt or unloaded here.</summary>
    private string VerifyLoaded(ModuleState state)
    {
        var loaded = state.Loaded!;
        progress.Facts(moduleVersion: loaded);
        if (state.Userland is null)
        {
            throw new BootstrapException(
                "zfs --version",
                $"zfs {loaded} is loaded but the ZFS userland version cannot be read: {state.UserlandError}. "
                    + "With zfs-fuse pass --module none; with OpenZFS the tools must print zfs-X.Y.Z on 'zfs --version'"
            );
        }
        if (!ZfsVersion.SameRelease(loaded, state.Userland))
        {
            // Unloading a module under imported pools is the operator's call, never the bootstrap's,
            // and rebuilding the module on disk would not change the loaded one.
            throw new BootstrapException(
                "verify module",
                $"the loaded zfs module is {loaded} but the userland tools ({options.ZfsCommand}) are {state.Userland}: a mismatch is a known cause of hangs and data loss. "
                    + $"The bootstrap never rebuilds or unloads a loaded module. In a container, the image must carry the module's release ({Upstream(loaded)}: "
                    + $"build it with --build-arg ZFS_USERLAND=source --build-arg OPENZFS_VERSION={Upstream(loaded)}, deploy/README.md); on the host, install the tools "
                    + "of the module's release, or export the pools and run 'modprobe -r zfs && modprobe zfs', or reboot"
            );
        }
        if (state.Installed is { } installed && !ZfsVersion.SameRelease(installed, loaded))
        {
            _log.Warning(
                "zfs {Loaded} is loaded but the module installed for kernel {Release} is {Installed}: the next boot loads {Installed}",
                loaded,
                state.Release,
                installed,
                installed
            );
        }
        return $"zfs module {loaded} loaded for kernel {state.Release}, matching userland {state.Userland}";
    }

    /// <summary>Refuses a build that is not allowed here or cannot produce a module matching the tools.</summary>
    private void RefuseUselessBuild(ModuleState state)
    {
        if (options.NoRebuild)
        {
            throw new BootstrapException(
                "rebuild",
                $"{state.BuildReason} ({state.Describe()}), and this bootstrap never builds (--no-rebuild): the host rebuilds it "
                    + "(deploy/systemd/zfs-csi-bootstrap.service: 'systemctl start zfs-csi-bootstrap' on the host, or reboot)",
                retryable: true
            );
        }
        if (options.SourceTree.Length == 0)
        {
            throw new BootstrapException(
                "rebuild",
                $"the zfs module must be rebuilt ({state.BuildReason}) but no --source tree is configured: pass --source /path/to/zfs-source"
            );
        }
        if (
            state.SourceVersion is { } source
            && state.Userland is { } userland
            && !ZfsVersion.SameRelease(source, userland)
        )
        {
            throw new BootstrapException(
                "rebuild",
                $"{state.BuildReason}, and the source tree {options.SourceTree} is OpenZFS {source}: a module built from it would not match the userland {userland} either, so nothing is built. "
                    + $"Use a source tree of release {Upstream(userland)}, or tools of release {Upstream(source)} (in a container: an image built with --build-arg ZFS_USERLAND=source --build-arg OPENZFS_VERSION={Upstream(source)})"
            );
        }
    }

    private async Task<ModuleState> BuildUnderLockAsync(ModuleState state, CancellationToken ct)
    {
        _log.Information(
            "The zfs module needs a rebuild: {BuildReason} ({ModuleState})",
            state.BuildReason,
            state.Describe()
        );
        var now = DateTimeOffset.UtcNow;
        if (now < _nextBuildAllowed)
        {
            throw new BootstrapException(
                "rebuild",
                $"the last rebuild failed {_failedBuilds} time(s); next attempt after {_nextBuildAllowed:HH:mm:ss} UTC ({state.Describe()})",
                retryable: true
            );
        }
        // Fail fast, before waiting for the lock: without the running kernel's headers no build can work.
        var headers = KernelHeaders.Find(options.ModulesDirectory, state.Release);
        foreach (var other in KernelHeaders.OtherReleasesWithHeaders(options.ModulesDirectory, state.Release))
        {
            _log.Information(
                "Headers for kernel {OtherRelease} are installed too; building for the running kernel {Release} only (after a reboot into {OtherRelease} the bootstrap builds for it)",
                other,
                state.Release,
                other
            );
        }
        // No limit: the holder is another bootstrap whose own steps have limits and a liveness probe.
        using var buildLock = await progress
            .StepAsync(
                BootstrapState.Rebuilding,
                "build lock",
                $"waiting for {options.BuildLockFile} (another bootstrap may be building)",
                () => MountSerializer.FileLock.AcquireAsync(options.BuildLockFile, ct),
                important: true
            )
            .ConfigureAwait(false);
        // Another bootstrap may have built (or loaded) while this one waited for the lock.
        state = await InspectAsync(state.Release, ct).ConfigureAwait(false);
        if (!state.NeedsBuild)
        {
            _log.Information("Another bootstrap rebuilt the module meanwhile: {ModuleState}", state.Describe());
            return state;
        }
        try
        {
            var buildStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            await BuildWithRetriesAsync(headers, ct).ConfigureAwait(false);
            progress.ModuleRebuilt(System.Diagnostics.Stopwatch.GetElapsedTime(buildStarted));
            _failedBuilds = 0;
            _nextBuildAllowed = DateTimeOffset.MinValue;
        }
        catch (BootstrapException)
        {
            _failedBuilds++;
            // In watch mode the next cycle must not start another long build at once.
            _nextBuildAllowed =
                DateTimeOffset.UtcNow
                + options.RetryDelay * Math.Pow(2, Math.Min(_failedBuilds + options.BuildAttempts - 1, 10));
            throw;
        }
        state = await InspectAsync(state.Release, ct).ConfigureAwait(false);
        if (state.NeedsBuild)
        {
            throw new BootstrapException(
                "verify module",
                $"rebuilt and installed from {options.SourceTree}, but the module for {state.Release} is still {state.Installed ?? "missing"} while the userland is {state.Userland}: "
                    + "the source tree is a different ZFS release than the installed tools; check out the matching release or reinstall the tools"
            );
        }
        return state;
    }

    private static string Upstream(string version) => ZfsVersion.Upstream(version) ?? version;
}
