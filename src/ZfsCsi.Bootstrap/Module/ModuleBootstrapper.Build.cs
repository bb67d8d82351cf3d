using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;

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
                _log.Warning("Build attempt {Attempt} of {Attempts} failed at {Step}: {Reason}; retrying in {DelaySeconds:F0} s",
                    attempt, options.BuildAttempts, e.Step, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay *= 2;
            }
            catch (BootstrapException e) when (e.Retryable)
            {
                throw new BootstrapException(e.Step, $"the zfs module build failed {attempt} time(s); last failure: {e.Message}", retryable: true, e);
            }
        }
    }

    /// <summary>
    /// The seed's steps, against the running kernel's headers: make clean, ./configure, make -jN,
    /// make install, depmod. modprobe is not here: it runs only once the installed module is
    /// checked, so a failed build never gets loaded.
    /// </summary>
    private async Task BuildOnceAsync(KernelHeaders headers, int attempt, CancellationToken ct)
    {
        var src = options.SourceTree;
        var why = $"rebuilding the zfs module for kernel {headers.Release} from {src} (attempt {attempt} of {options.BuildAttempts})";
        if (!File.Exists(Path.Combine(src, "configure")))
        {
            throw new BootstrapException("./configure", $"{src} has no configure script: --source must be a ZFS release source tree (run ./autogen.sh in a git checkout)");
        }
        if (File.Exists(Path.Combine(src, "Makefile")))
        {
            await BuildStepAsync(why, new CommandLine(options.Make, "clean") { WorkingDirectory = src }, ct).ConfigureAwait(false);
        }
        await BuildStepAsync(why, new CommandLine(Path.Combine(src, "configure"),
            [$"--with-linux={headers.Source}", $"--with-linux-obj={headers.Objects}", .. options.ConfigureArguments]) { WorkingDirectory = src }, ct).ConfigureAwait(false);
        await BuildStepAsync(why, new CommandLine(options.Make, $"-j{options.Jobs}") { WorkingDirectory = src }, ct).ConfigureAwait(false);
        try
        {
            // Not cancellable (a SIGTERM waits for it; only --build-timeout kills it): killing make
            // install half-way is exactly the half-installed module this must never leave.
            await BuildStepAsync(why, new CommandLine(options.Make, "install") { WorkingDirectory = src }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (BootstrapException)
        {
            await RemoveHalfInstalledAsync(headers, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        await BuildStepAsync(why, new CommandLine(options.Depmod, "-a", headers.Release), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>A make install that stopped half-way may leave modules that do not belong together: take them out so nothing loads them.</summary>
    private async Task RemoveHalfInstalledAsync(KernelHeaders headers, CancellationToken ct)
    {
        _log.Warning("make install failed part-way: running make uninstall and depmod so no half-installed zfs module can be loaded");
        foreach (var command in new[] { new CommandLine(options.Make, "uninstall") { WorkingDirectory = options.SourceTree }, new CommandLine(options.Depmod, "-a", headers.Release) })
        {
            try
            {
                var result = await runner.RunStreamingAsync(command, options.BuildTimeout, progress.Output, ct).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    _log.Error("Clean-up {Argv} exited {ExitCode}: check /lib/modules/{Release}/extra by hand before loading zfs", command.ToString(), result.ExitCode, headers.Release);
                }
            }
            catch (Exception e) when (e is CommandFailedException or CommandTimeoutException)
            {
                _log.Error("Clean-up {Argv} failed: {Reason}", command.ToString(), e.Message);
            }
        }
    }

    private Task BuildStepAsync(string why, CommandLine command, CancellationToken ct)
    {
        var step = command.Program == Path.Combine(options.SourceTree, "configure")
            ? "./configure " + string.Join(' ', command.Arguments)
            : Path.GetFileName(command.Program) + " " + string.Join(' ', command.Arguments);
        return progress.StepAsync(BootstrapState.Rebuilding, step, why, async () =>
        {
            CommandResult result;
            try
            {
                result = await runner.RunStreamingAsync(command, options.BuildTimeout, progress.Output, ct).ConfigureAwait(false);
            }
            catch (CommandTimeoutException e)
            {
                throw new BootstrapException(step, e.Message, retryable: true, e);
            }
            catch (CommandFailedException e)
            {
                throw new BootstrapException(step, $"{e.Message} (is build-essential installed?)", retryable: false, e);
            }
            if (!result.Succeeded)
            {
                var tail = progress.Tail;
                throw new BootstrapException(step,
                    $"{step} exited {result.ExitCode} in {options.SourceTree}; last output: {(tail.Count > 0 ? tail[^1] : "(none)")}", retryable: true);
            }
        }, important: true);
    }
}
