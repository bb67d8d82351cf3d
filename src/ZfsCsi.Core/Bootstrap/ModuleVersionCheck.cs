using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Health;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Bootstrap;

/// <summary>
/// The driver's own tools against the loaded OpenZFS module: the driver runs the zfs and zpool of
/// its image, and tools of another release than the module are a known cause of hangs and data
/// loss (the bootstrap checks its own image's tools, not the driver's). Reads
/// /sys/module/zfs/version on every check (a module can be reloaded) and <c>zfs --version</c>
/// once (the image does not change under a running process). Nothing to check, and no command
/// run, when no zfs module is loaded (zfs-fuse, or a module not loaded yet: the pool check says so).
/// </summary>
public sealed class ModuleVersionCheck(
    ICommandRunner runner,
    string zfsCommand,
    TimeSpan timeout,
    string sysModuleDirectory = ModuleVersionCheck.DefaultSysModuleDirectory
)
{
    public const string DefaultSysModuleDirectory = "/sys/module";

    private readonly SemaphoreSlim _once = new(1, 1);
    private bool _userlandRead;
    private string? _userland;

    /// <summary>Not ready with the reason when the loaded module and the tools differ; null when they match or there is nothing to compare.</summary>
    public async Task<Readiness?> CheckAsync(CancellationToken ct)
    {
        var loaded = ReadLoaded();
        if (loaded is null)
        {
            return null;
        }
        var userland = await UserlandAsync(ct).ConfigureAwait(false);
        if (userland is null || ZfsVersion.SameRelease(loaded, userland))
        {
            return null;
        }
        var release = ZfsVersion.Upstream(loaded) ?? loaded;
        return new Readiness(
            false,
            $"the driver's zfs tools ({zfsCommand}) are OpenZFS {userland} but the loaded zfs module is {loaded}: a mismatch is a known cause of hangs and data loss; "
                + $"run a driver image with the module's release (--build-arg ZFS_USERLAND=source --build-arg OPENZFS_VERSION={release}, deploy/README.md \"Images\")"
        );
    }

    private string? ReadLoaded()
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(sysModuleDirectory, "zfs", "version")).Trim();
            return text.Length > 0 ? text : null;
        }
        catch (Exception e)
            when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private async Task<string?> UserlandAsync(CancellationToken ct)
    {
        await _once.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_userlandRead)
            {
                // --version, not the version subcommand: answered before libzfs_init() (cmd/zfs/zfs_main.c main()).
                var result = await runner
                    .RunAsync(new CommandLine(zfsCommand, ZfsArgs.Version()), timeout, ct)
                    .ConfigureAwait(false);
                _userland = ZfsVersion.ParseUserland(result.StandardOutput);
                // A tool without a zfs-X.Y.Z line (zfs-fuse answers with its usage) has nothing to compare: asked once.
                _userlandRead = true;
            }
            return _userland;
        }
        catch (Exception e) when (e is CommandFailedException or CommandTimeoutException)
        {
            // Not cached: the next check asks again; the pool check reports a zfs that does not run.
            return null;
        }
        finally
        {
            _once.Release();
        }
    }
}
