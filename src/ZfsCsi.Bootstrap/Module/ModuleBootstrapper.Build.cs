using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap.Module;

public sealed partial class ModuleBootstrapper
{
    /// <summary>Builds up to <see cref="BootstrapOptions.BuildAttempts"/> times, waiting <see cref="BootstrapOptions.RetryDelay"/>, doubled after each failure.</summary>
    private async Task BuildWithRetriesAsync(KernelHeaders headers, CancellationToken ct)
    {
        var delay = options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await BuildOnceAsync(headers, attempt, ct).ConfigureAwait(false);
                return;
            }
            catch (BootstrapException e) when (e.Retryable && attempt < options.BuildAttempts)
            {
                _log.Warning(
                    "Build attempt {Attempt} of {Attempts} failed at {Step}: {Reason}; retrying in {DelaySeconds:F0} s",
                    attempt,
                    options.BuildAttempts,
                    e.Step,
                    e.Message,
                    delay.TotalSeconds
                );
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay *= 2;
            }
            catch (BootstrapException e) when (e.Retryable)
            {
                throw new BootstrapException(
                    e.Step,
                    $"the zfs module build failed {attempt} time(s); last failure: {e.Message}",
                    retryable: true,
                    e
                );
            }
        }
    }

    /// <summary>
    /// The seed's steps, against the running kernel's headers: make clean, ./configure, make -jN,
    /// make install, depmod. modprobe is not here: it runs only once the installed module is
    /// checked, so a failed build never gets loaded. The module files installed for this kernel
    /// are copied before make install and put back if it (or depmod) fails.
    /// </summary>
    private async Task BuildOnceAsync(KernelHeaders headers, int attempt, CancellationToken ct)
    {
        var src = options.SourceTree;
        var why =
            $"rebuilding the zfs module for kernel {headers.Release} from {src} (attempt {attempt} of {options.BuildAttempts})";
        if (!File.Exists(Path.Combine(src, "configure")))
        {
            throw new BootstrapException(
                "./configure",
                $"{src} has no configure script: --source must be a ZFS release source tree (run ./autogen.sh in a git checkout)"
            );
        }
        if (File.Exists(Path.Combine(src, "Makefile")))
        {
            await CleanAsync(why, src, ct).ConfigureAwait(false);
        }
        await BuildStepAsync(
                why,
                new CommandLine(
                    Path.Combine(src, "configure"),
                    [
                        $"--with-linux={headers.Source}",
                        $"--with-linux-obj={headers.Objects}",
                        .. options.ConfigureArguments,
                    ]
                )
                {
                    WorkingDirectory = src,
                },
                ct
            )
            .ConfigureAwait(false);
        await BuildStepAsync(why, new CommandLine(options.Make, $"-j{options.Jobs}") { WorkingDirectory = src }, ct)
            .ConfigureAwait(false);
        var backup = BackUp(headers.Release);
        try
        {
            // Not cancellable (a SIGTERM waits for it; only --build-timeout kills it): killing make
            // install half-way is exactly the half-installed module this must never leave.
            await BuildStepAsync(
                    why,
                    new CommandLine(options.Make, "install") { WorkingDirectory = src },
                    CancellationToken.None
                )
                .ConfigureAwait(false);
            await BuildStepAsync(why, new CommandLine(options.Depmod, "-a", headers.Release), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (BootstrapException)
        {
            await RestoreAsync(backup, headers.Release, "make install failed part-way").ConfigureAwait(false);
            throw;
        }
        backup.Discard();
    }

    /// <summary>The file OpenZFS's make clean deletes (top Makefile: CLEANFILES += include/zfs_gitrev.h) and a tree without .git may not make again.</summary>
    public const string GitRevisionHeader = "include/zfs_gitrev.h";

    /// <summary>
    /// make clean, keeping <see cref="GitRevisionHeader"/>. A release tarball (and zfs-dkms's
    /// copy of it in /usr/src) ships that header instead of a .git; make clean deletes it, and
    /// the next make, finding no git to ask, fails on the missing header in that tree (seen with
    /// zfs-dkms 2.3.2 on Debian). Put back what was there, so the seed's "make clean, ./configure,
    /// make" works on the second kernel update as on the first.
    /// </summary>
    private async Task CleanAsync(string why, string src, CancellationToken ct)
    {
        var header = Path.Combine(src, GitRevisionHeader);
        var kept = File.Exists(header) ? await File.ReadAllBytesAsync(header, ct).ConfigureAwait(false) : null;
        await BuildStepAsync(why, new CommandLine(options.Make, "clean") { WorkingDirectory = src }, ct)
            .ConfigureAwait(false);
        if (kept is not null && !File.Exists(header))
        {
            await File.WriteAllBytesAsync(header, kept, ct).ConfigureAwait(false);
            _log.Information(
                "make clean deleted {Header}, which this tree cannot make again without git: put back as it was",
                header
            );
        }
    }

    private ModuleBackup BackUp(string release)
    {
        try
        {
            var backup = ModuleBackup.Take(options.ModulesDirectory, release);
            _log.Information(
                "Copied {Files} installed zfs module file(s) of kernel {Release} to {Backup}: put back if make install fails",
                backup.Files,
                release,
                backup.Copy
            );
            return backup;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a copy a failed install could not be undone: do not start it.
            throw new BootstrapException(
                "back up module",
                $"cannot copy the installed zfs module files of kernel {release} to {ModuleBackup.CopyDirectory(options.ModulesDirectory, release)} before make install: {e.Message}",
                retryable: true,
                e
            );
        }
    }

    /// <summary>Puts the copied module files back and re-runs depmod, so modprobe finds exactly what worked before.</summary>
    private async Task RestoreAsync(ModuleBackup backup, string release, string why)
    {
        _log.Warning(
            "{Why}: putting back the {Files} zfs module file(s) of kernel {Release} from {Backup} (never make uninstall, which would delete them and the tools)",
            why,
            backup.Files,
            release,
            backup.Copy
        );
        try
        {
            backup.Restore();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error(
                "Putting back the zfs module files failed: {Reason}; the previous module is still in {Backup}: copy it to {Extra} by hand and run depmod -a {Release} before loading zfs",
                e.Message,
                backup.Copy,
                backup.Extra,
                release
            );
            return;
        }
        var depmod = new CommandLine(options.Depmod, "-a", release);
        try
        {
            var result = await runner
                .RunStreamingAsync(depmod, options.BuildTimeout, progress.Output, CancellationToken.None)
                .ConfigureAwait(false);
            if (!result.Succeeded)
            {
                _log.Error(
                    "{Argv} exited {ExitCode} after putting the module files back: run it by hand before loading zfs",
                    depmod.ToString(),
                    result.ExitCode
                );
            }
        }
        catch (Exception e) when (e is CommandFailedException or CommandTimeoutException)
        {
            _log.Error(
                "{Argv} failed after putting the module files back: {Reason}; run it by hand before loading zfs",
                depmod.ToString(),
                e.Message
            );
        }
    }

    /// <summary>A copy left behind means an install was cut short (the process was killed): put it back, under the build lock.</summary>
    private async Task RecoverInterruptedInstallAsync(string release, CancellationToken ct)
    {
        if (options.NoRebuild)
        {
            // The files on disk may be half-written: loading them is not safe, and putting them back is the builder's job.
            throw new BootstrapException(
                "restore module",
                $"an earlier make install for kernel {release} was interrupted (the module it replaced is in {ModuleBackup.CopyDirectory(options.ModulesDirectory, release)}), "
                    + "and this bootstrap never installs (--no-rebuild): the host's zfs-csi-bootstrap.service puts it back at its next run ('systemctl start zfs-csi-bootstrap')",
                retryable: true
            );
        }
        using var buildLock = await progress
            .StepAsync(
                BootstrapState.Rebuilding,
                "build lock",
                $"waiting for {options.BuildLockFile} to recover an interrupted install",
                () => MountSerializer.FileLock.AcquireAsync(options.BuildLockFile, ct),
                important: true
            )
            .ConfigureAwait(false);
        if (ModuleBackup.Find(options.ModulesDirectory, release) is { } backup)
        {
            await progress
                .StepAsync(
                    BootstrapState.Rebuilding,
                    "restore module",
                    $"an earlier make install for kernel {release} was interrupted: putting back the module it replaced",
                    () => RestoreAsync(backup, release, "An earlier make install was interrupted"),
                    important: true,
                    limit: options.BuildTimeout
                )
                .ConfigureAwait(false);
        }
    }

    private Task BuildStepAsync(string why, CommandLine command, CancellationToken ct)
    {
        var step =
            command.Program == Path.Combine(options.SourceTree, "configure")
                ? "./configure " + string.Join(' ', command.Arguments)
                : Path.GetFileName(command.Program) + " " + string.Join(' ', command.Arguments);
        return progress.StepAsync(
            BootstrapState.Rebuilding,
            step,
            why,
            async () =>
            {
                CommandResult result;
                try
                {
                    result = await runner
                        .RunStreamingAsync(command, options.BuildTimeout, progress.Output, ct)
                        .ConfigureAwait(false);
                }
                catch (CommandTimeoutException e)
                {
                    throw new BootstrapException(step, e.Message, retryable: true, e);
                }
                catch (CommandFailedException e)
                {
                    throw new BootstrapException(
                        step,
                        $"{e.Message} (is build-essential installed?)",
                        retryable: false,
                        e
                    );
                }
                if (!result.Succeeded)
                {
                    var tail = progress.Tail;
                    throw new BootstrapException(
                        step,
                        $"{step} exited {result.ExitCode} in {options.SourceTree}; last output: {(tail.Count > 0 ? tail[^1] : "(none)")}",
                        retryable: true
                    );
                }
            },
            important: true,
            limit: options.BuildTimeout
        );
    }
}
