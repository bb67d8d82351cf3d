using ZfsCsi.Core.Exec;

namespace ZfsCsi.Bootstrap.Module;

public sealed partial class ModuleBootstrapper
{
    private string LoadedVersionPath => Path.Combine(options.SysModuleDirectory, "zfs", "version");

    private async Task<string> UnameAsync(CancellationToken ct)
    {
        var result = await RequireAsync(new CommandLine(options.Uname, "-r"), options.CommandTimeout, "uname -r", retryable: true, ct).ConfigureAwait(false);
        var release = result.StandardOutput.Trim();
        // The release names a directory under /lib/modules: nothing that could leave it.
        return release.Length > 0 && !release.Contains('/', StringComparison.Ordinal) && release is not ("." or "..")
            ? release
            : throw new BootstrapException("uname -r", $"uname -r printed '{release}', which is not a kernel release");
    }

    /// <summary>Three quick reads, no build: modinfo for exactly this release, /sys for the loaded module, zfs version for the tools.</summary>
    private async Task<ModuleState> InspectAsync(string release, CancellationToken ct)
    {
        var modinfo = await runner.RunAsync(new CommandLine(options.Modinfo, "-k", release, "-F", "version", "zfs"), options.CommandTimeout, ct).ConfigureAwait(false);
        var installed = modinfo.Succeeded && modinfo.StandardOutput.Trim().Length > 0 ? modinfo.StandardOutput.Trim() : null;
        var zfsVersion = await RunOrNullAsync(new CommandLine(options.ZfsCommand, "version"), ct).ConfigureAwait(false);
        var userland = zfsVersion is { Succeeded: true } ? ZfsVersion.ParseUserland(zfsVersion.StandardOutput) : null;
        var userlandError = userland is not null ? null
            : zfsVersion is null ? $"{options.ZfsCommand} cannot be started"
            : $"'{options.ZfsCommand} version' exited {zfsVersion.ExitCode}: {FirstLine(zfsVersion.StandardError)}";
        var state = new ModuleState(release, installed, ReadLoadedVersion(), userland, userlandError);
        _log.Debug("Module state: {ModuleState}", state.Describe());
        return state;
    }

    private string? ReadLoadedVersion()
    {
        try
        {
            var text = File.ReadAllText(LoadedVersionPath).Trim();
            return text.Length > 0 ? text : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private async Task<CommandResult?> RunOrNullAsync(CommandLine command, CancellationToken ct)
    {
        try
        {
            return await runner.RunAsync(command, options.CommandTimeout, ct).ConfigureAwait(false);
        }
        catch (CommandFailedException)
        {
            // Not installed (yet): the first build installs the tools too.
            return null;
        }
    }

    private async Task<CommandResult> RequireAsync(CommandLine command, TimeSpan timeout, string step, bool retryable, CancellationToken ct)
    {
        CommandResult result;
        try
        {
            result = await runner.RunAsync(command, timeout, ct).ConfigureAwait(false);
        }
        catch (CommandTimeoutException e)
        {
            throw new BootstrapException(step, e.Message, retryable, e);
        }
        catch (CommandFailedException e)
        {
            throw new BootstrapException(step, e.Message, retryable: false, e);
        }
        return result.Succeeded ? result
            : throw new BootstrapException(step, $"{command} exited {result.ExitCode}: {FirstLines(result.StandardError + result.StandardOutput)}", retryable);
    }

    private static string FirstLine(string text) => text.Trim().Split('\n').FirstOrDefault()?.Trim() ?? "";

    private static string FirstLines(string text) => string.Join(" / ", text.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(5));
}
