using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap.Module;

public sealed partial class ModuleBootstrapper
{
    /// <summary>How the userland is read: <c>zfs --version</c>, never <c>zfs version</c>.</summary>
    public const string ZfsVersionCommand = "zfs --version";

    private string LoadedVersionPath => Path.Combine(options.SysModuleDirectory, "zfs", "version");

    private async Task<string> UnameAsync(CancellationToken ct)
    {
        var result = await RequireAsync(
                new CommandLine(options.Uname, "-r"),
                options.CommandTimeout,
                "uname -r",
                retryable: true,
                ct
            )
            .ConfigureAwait(false);
        var release = result.StandardOutput.Trim();
        // The release names a directory under /lib/modules: nothing that could leave it.
        return release.Length > 0 && !release.Contains('/', StringComparison.Ordinal) && release is not ("." or "..")
            ? release
            : throw new BootstrapException("uname -r", $"uname -r printed '{release}', which is not a kernel release");
    }

    /// <summary>Quick reads, no build: modinfo for exactly this release, /sys for the loaded module, the tools' version, the source tree's META.</summary>
    private async Task<ModuleState> InspectAsync(string release, CancellationToken ct)
    {
        var modinfo = await runner
            .RunAsync(
                new CommandLine(options.Modinfo, "-k", release, "-F", "version", "zfs"),
                options.CommandTimeout,
                ct
            )
            .ConfigureAwait(false);
        var installed =
            modinfo.Succeeded && modinfo.StandardOutput.Trim().Length > 0 ? modinfo.StandardOutput.Trim() : null;
        var (userland, error) = await ReadUserlandAsync(ct).ConfigureAwait(false);
        var source = ReadSourceVersion();
        var from = userland is not null ? ZfsVersionCommand : null;
        if (userland is null && source is not null)
        {
            // OpenZFS before 2.0 (zfs_version_print() read the kernel version first) prints no
            // userland line without the module, and a first build has no tools yet: the tree
            // the tools were (or will be) installed from says which release they are. Checked
            // again with zfs --version once the module is loaded.
            (userland, from) = (source, $"META of {options.SourceTree}");
        }
        var state = new ModuleState(release, installed, ReadLoadedVersion(), userland, from, error, source);
        _log.Debug("Module state: {ModuleState}", state.Describe());
        return state;
    }

    /// <summary>
    /// The userland from <c>zfs --version</c>, whatever its exit code. Not <c>zfs version</c>:
    /// OpenZFS runs every subcommand after libzfs_init(), which fails without the module ("The ZFS
    /// modules are not loaded", or a 10 s wait for /dev/zfs), while -V/--version is answered
    /// before it (cmd/zfs/zfs_main.c main()); since OpenZFS 2.0 the "zfs-X.Y.Z" line comes first
    /// and only the "zfs-kmod-" line fails without the module (libzfs zfs_version_print(), #10483).
    /// </summary>
    private async Task<(string? Userland, string? Error)> ReadUserlandAsync(CancellationToken ct)
    {
        var result = await RunOrNullAsync(new CommandLine(options.ZfsCommand, ZfsArgs.Version()), ct)
            .ConfigureAwait(false);
        if (result is null)
        {
            return (null, $"{options.ZfsCommand} cannot be started");
        }
        var userland = ZfsVersion.ParseUserland(result.StandardOutput);
        return userland is not null
            ? (userland, null)
            : (
                null,
                $"'{options.ZfsCommand} --version' exited {result.ExitCode} without a zfs-X.Y.Z line: {FirstLine(result.StandardError + result.StandardOutput)}"
            );
    }

    /// <summary>The release the --source tree builds (its META file), or null without a tree or META.</summary>
    private string? ReadSourceVersion()
    {
        if (options.SourceTree.Length == 0)
        {
            return null;
        }
        try
        {
            return ZfsVersion.ParseMeta(File.ReadAllText(Path.Combine(options.SourceTree, "META")));
        }
        catch (Exception e)
            when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }
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

    private async Task<CommandResult> RequireAsync(
        CommandLine command,
        TimeSpan timeout,
        string step,
        bool retryable,
        CancellationToken ct
    )
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
        return result.Succeeded
            ? result
            : throw new BootstrapException(
                step,
                $"{command} exited {result.ExitCode}: {FirstLines(result.StandardError + result.StandardOutput)}",
                retryable
            );
    }

    private static string FirstLine(string text) => text.Trim().Split('\n').FirstOrDefault()?.Trim() ?? "";

    private static string FirstLines(string text) =>
        string.Join(
            " / ",
            text.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(5)
        );
}
