using System.Diagnostics;
using Serilog;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Metrics;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// The node's view of the storage host's pool root: is it mounted and answering, and, when the node owns the
/// SSHFS mount (--sshfs-remote), (re)establishing it. Every look at it has a deadline, so a dead
/// mount is reported within seconds and never blocks an RPC. The kernel is reached through
/// <paramref name="kernel"/> (<see cref="LinuxKernel"/> in the driver), sshfs through <paramref name="runner"/>.
/// </summary>
public sealed class DataRoot(
    NodeOptions options,
    ICommandRunner runner,
    INodeKernel kernel,
    ILogger logger,
    INodeMetrics? metrics = null
)
{
    private readonly ILogger _log = logger.ForContext<DataRoot>();
    private readonly SemaphoreSlim _remount = new(1, 1);

    // While sshfs runs: it puts its FUSE mount in place before its ssh has logged in (seen with
    // sshfs 3.7 when the storage host refuses the connection: the mount shows for ~10 ms, then goes
    // with sshfs's exit 1), and it answers statvfs itself until it knows the server's. A look in
    // that window would call a mount that is about to fail alive, and a publish would bind it.
    private volatile bool _mounting;
    private readonly string _path = options.DataRoot.Length > 1 ? options.DataRoot.TrimEnd('/') : options.DataRoot;

    public string Path => _path;

    /// <summary>Mounts of /data this plugin made or re-made, for logs and tests.</summary>
    public int Remounts { get; private set; }

    /// <summary>Looks at /data: mounted, and answering statvfs within the deadline.</summary>
    public async Task<DataRootState> ProbeAsync()
    {
        // Every look is also the metrics' view: the bind check looks every few seconds, SSHFS or not.
        var state = await LookAsync().ConfigureAwait(false);
        metrics?.DataRootProbed(state);
        return state;
    }

    private async Task<DataRootState> LookAsync()
    {
        if (_mounting)
        {
            return DataRootState.Dead($"{_path} is being mounted over SSHFS right now", null);
        }
        var mount = MountTable.Read(kernel).At(_path).LastOrDefault();
        if (mount is null)
        {
            return DataRootState.Dead($"{_path} is not mounted", null);
        }
        try
        {
            await Deadline
                .RunAsync($"statvfs {_path}", () => FsStats.Of(kernel, _path), options.CallTimeout)
                .ConfigureAwait(false);
            return new DataRootState(true, $"{_path} ({mount.FsType} {mount.Source}) answers", mount);
        }
        catch (SyscallException e)
        {
            return DataRootState.Dead(
                $"{_path} ({mount.FsType} {mount.Source}) is dead: {e.Message}",
                mount,
                e.Errno == Errno.ENOTCONN
            );
        }
        catch (DeadMountException e)
        {
            return DataRootState.Dead(e.Message, mount);
        }
    }

    /// <summary>
    /// /data alive, or UNAVAILABLE. When this node owns the SSHFS mount and it is missing or its
    /// sshfs process is gone (ENOTCONN), it is re-established first; a link that is down (EIO,
    /// no answer) is left to sshfs's own reconnect, so the call fails fast instead of waiting on it.
    /// </summary>
    public async Task<DataRootState> RequireAliveAsync(CancellationToken ct)
    {
        var state = await ProbeAsync().ConfigureAwait(false);
        if (!state.Alive && options.Sshfs is not null && (state.Mount is null || state.Disconnected))
        {
            state = await EnsureMountedAsync(wait: false, ct).ConfigureAwait(false);
        }
        return state.Alive
            ? state
            : throw new DeadMountException($"the node's data root is unavailable: {state.Reason}");
    }

    /// <summary>
    /// Makes /data an answering SSHFS mount when this node owns it: a missing mount is made, a
    /// disconnected one (sshfs gone: ENOTCONN) is detached and made again. Logs what it did.
    /// </summary>
    public async Task<DataRootState> EnsureMountedAsync(bool wait, CancellationToken ct)
    {
        var sshfs = options.Sshfs;
        if (sshfs is null)
        {
            return await ProbeAsync().ConfigureAwait(false);
        }
        if (!await _remount.WaitAsync(wait ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, ct).ConfigureAwait(false))
        {
            return DataRootState.Dead($"{_path} is being re-mounted over SSHFS right now", null);
        }
        try
        {
            var state = await ProbeAsync().ConfigureAwait(false);
            if (state.Alive || (state.Mount is not null && !state.Disconnected))
            {
                return state;
            }
            if (state.Mount is not null)
            {
                _log.Warning(
                    "SSHFS mount {DataRoot} is disconnected ({Reason}); detaching it to mount again",
                    _path,
                    state.Reason
                );
                DetachAll();
                if (MountTable.Read(kernel).At(_path).Count > 0)
                {
                    // Still mounted: touching the path would hang on the dead FUSE mount.
                    return DataRootState.Dead(
                        $"{_path} is a dead SSHFS mount that cannot be detached; run 'umount -l {_path}' on the node",
                        state.Mount
                    );
                }
            }
            // Bounded: even an unmounted path can sit on another dead mount.
            await Deadline
                .RunAsync(
                    $"mkdir {_path}",
                    () =>
                    {
                        kernel.CreateDirectories(_path);
                        return 0;
                    },
                    options.CallTimeout
                )
                .ConfigureAwait(false);
            var started = Stopwatch.GetTimestamp();
            CommandResult result;
            _mounting = true;
            try
            {
                result = await runner
                    .RunAsync(SshfsArgs.Mount(sshfs, _path), sshfs.MountTimeout, ct)
                    .ConfigureAwait(false);
            }
            finally
            {
                _mounting = false;
            }
            if (!result.Succeeded)
            {
                _log.Error(
                    "Cannot mount {Remote} on {DataRoot} over SSHFS: {StandardError}",
                    sshfs.Remote,
                    _path,
                    result.StandardError.Trim()
                );
                metrics?.SshfsMountFailed();
                return DataRootState.Dead($"sshfs {sshfs.Remote} {_path} failed: {result.StandardError.Trim()}", null);
            }
            Remounts++;
            metrics?.SshfsMounted();
            state = await ProbeAsync().ConfigureAwait(false);
            _log.Information(
                "Mounted {Remote} on {DataRoot} over SSHFS in {DurationMs:F0} ms (mount number {Remounts}): {Reason}",
                sshfs.Remote,
                _path,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                Remounts,
                state.Reason
            );
            return state;
        }
        catch (Exception e) when (e is Errors.ZfsCsiException or IOException)
        {
            _log.Error("Cannot mount {Remote} on {DataRoot} over SSHFS: {Reason}", sshfs.Remote, _path, e.Message);
            metrics?.SshfsMountFailed();
            return DataRootState.Dead(e.Message, null);
        }
        finally
        {
            _remount.Release();
        }
    }

    /// <summary>Keeps /data mounted until <paramref name="ct"/> ends; one check every CheckInterval.</summary>
    public async Task SuperviseAsync(CancellationToken ct)
    {
        var wasAlive = true;
        while (!ct.IsCancellationRequested)
        {
            var state = await EnsureMountedAsync(wait: true, ct).ConfigureAwait(false);
            if (state.Alive != wasAlive)
            {
                if (state.Alive)
                {
                    _log.Information("Data root {DataRoot} is back: {Reason}", _path, state.Reason);
                }
                else
                {
                    _log.Warning("Data root {DataRoot} is unavailable: {Reason}", _path, state.Reason);
                }
                wasAlive = state.Alive;
            }
            try
            {
                await Task.Delay(options.CheckInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Lazily unmounts every mount stacked on /data (MNT_DETACH: a dead FUSE mount cannot be unmounted any other way without hanging).</summary>
    private void DetachAll()
    {
        for (var i = 0; i < 8 && MountTable.Read(kernel).At(_path).Count > 0; i++)
        {
            if (kernel.Umount2(_path, Native.MntDetach | Native.UmountNofollow) is var errno and not 0)
            {
                _log.Warning("umount2 {DataRoot} MNT_DETACH failed: {Errno}", _path, Errno.Describe(errno));
                return;
            }
        }
    }
}
