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
    INodeMetrics? metrics = null,
    TimeProvider? clock = null
)
{
    private readonly ILogger _log = logger.ForContext<DataRoot>();
    private readonly SemaphoreSlim _remount = new(1, 1);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    // Since when (UTC ticks; 0: not) every look found /data mounted but dead while its sshfs still
    // runs (EIO, no answer): the state sshfs's own reconnect is meant to heal. Looks run at once
    // (the supervisor, the bind check, RPCs), hence Interlocked.
    private long _stuckSinceTicks;

    // When a fresh login was last tried beside a stuck mount (UTC ticks), so a storage host that is
    // down gets one try per reconnect grace, not one per check. Under _remount.
    private long _freshLoginTriedTicks;

    // While sshfs runs: it puts its FUSE mount in place before its ssh has logged in (seen with
    // sshfs 3.7 when the storage host refuses the connection: the mount shows for ~10 ms, then goes
    // with sshfs's exit 1), and it answers statvfs itself until it knows the server's. A look in
    // that window would call a mount that is about to fail alive, and a publish would bind it.
    private volatile bool _mounting;
    private readonly string _path = options.DataRoot.Length > 1 ? options.DataRoot.TrimEnd('/') : options.DataRoot;

    public string Path => _path;

    /// <summary>
    /// Where a fresh SSHFS mount is tried beside a stuck one: a hidden sibling of the data root
    /// (/.data.zfs-csi-check for /data), on the node's own disk, never under the data root or kubelet's directory.
    /// </summary>
    public string FreshLoginPath =>
        System.IO.Path.GetDirectoryName(_path) is { } dir
            ? System.IO.Path.Join(dir, $".{System.IO.Path.GetFileName(_path)}.zfs-csi-check")
            : "/.zfs-csi-check";

    /// <summary>Mounts of /data this plugin made or re-made, for logs and tests.</summary>
    public int Remounts { get; private set; }

    /// <summary>Looks at /data: mounted, and answering statvfs within the deadline.</summary>
    public async Task<DataRootState> ProbeAsync()
    {
        // Every look is also the metrics' view: the bind check looks every few seconds, SSHFS or not.
        var state = await LookAsync().ConfigureAwait(false);
        if (state.Alive || state.Mount is null || state.Disconnected)
        {
            Interlocked.Exchange(ref _stuckSinceTicks, 0);
        }
        else
        {
            Interlocked.CompareExchange(ref _stuckSinceTicks, _clock.GetUtcNow().UtcTicks, 0);
        }
        metrics?.DataRootProbed(state);
        return state;
    }

    /// <summary>
    /// How long /data has been mounted but dead with its sshfs still running, when that is longer
    /// than sshfs's own reconnect needs (<see cref="SshfsOptions.ReconnectGrace"/>); else null.
    /// sshfs's reconnect does not always come back: an sshfs whose ssh neither answers nor dies
    /// never starts one, and a request in flight when the link went can wait for good.
    /// </summary>
    private TimeSpan? StuckPastReconnect(DataRootState state)
    {
        if (options.Sshfs is not { } sshfs || state.Alive || state.Mount is null || state.Disconnected)
        {
            return null;
        }
        var since = Interlocked.Read(ref _stuckSinceTicks);
        if (since == 0)
        {
            return null;
        }
        var stuck = _clock.GetUtcNow() - new DateTimeOffset(since, TimeSpan.Zero);
        return stuck >= sshfs.ReconnectGrace ? stuck : null;
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
    /// /data alive, or UNAVAILABLE. When this node owns the SSHFS mount and it is missing, its
    /// sshfs process is gone (ENOTCONN), or it has stayed dead past sshfs's reconnect grace while a
    /// fresh login works (<see cref="EnsureMountedAsync"/>), it is re-established first; a link that is down (EIO, no answer) for less than that is left to
    /// sshfs's own reconnect, so the call fails fast instead of waiting on it.
    /// </summary>
    public async Task<DataRootState> RequireAliveAsync(CancellationToken ct)
    {
        var state = await ProbeAsync().ConfigureAwait(false);
        if (
            !state.Alive
            && options.Sshfs is not null
            && (state.Mount is null || state.Disconnected || StuckPastReconnect(state) is not null)
        )
        {
            state = await EnsureMountedAsync(wait: false, ct).ConfigureAwait(false);
        }
        return state.Alive
            ? state
            : throw new DeadMountException($"the node's data root is unavailable: {state.Reason}");
    }

    /// <summary>
    /// Makes /data an answering SSHFS mount when this node owns it: a missing mount is made, a
    /// disconnected one (sshfs gone: ENOTCONN) is detached and made again, and so is one dead past
    /// sshfs's reconnect grace when a trial mount beside it answers (its sshfs's reconnect is
    /// stuck; a host that is down fails the trial too, and its mount is left to sshfs). Logs what it did. Binds made from the old mount stay on it: a
    /// publish replaces such a stale bind, stats and health report it.
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
            var stuck = StuckPastReconnect(state);
            if (state.Alive || (state.Mount is not null && !state.Disconnected && stuck is null))
            {
                return state;
            }
            if (state.Mount is not null)
            {
                if (stuck is { } deadFor)
                {
                    // A storage host that is down (rebooting) fails a fresh login too: then the
                    // mount is left to sshfs, whose reconnect brings every pod's bind of it back
                    // once the host answers. Replacing it would leave those binds dead for good.
                    if (!FreshLoginDue(sshfs))
                    {
                        return state;
                    }
                    if (await FreshLoginFailsAsync(sshfs, ct).ConfigureAwait(false) is { } why)
                    {
                        _log.Information(
                            "SSHFS mount {DataRoot} has been dead for {DeadSeconds:F0} s ({Reason}) and a fresh login fails too ({FreshLogin}): the storage host is not serving; leaving the mount to sshfs's reconnect",
                            _path,
                            deadFor.TotalSeconds,
                            state.Reason,
                            why
                        );
                        return state;
                    }
                    _log.Warning(
                        "SSHFS mount {DataRoot} has been dead for {DeadSeconds:F0} s ({Reason}), longer than sshfs's own reconnect needs ({GraceSeconds:F0} s), while a fresh login answers: its reconnect is stuck; aborting its FUSE connection and detaching it to mount again",
                        _path,
                        deadFor.TotalSeconds,
                        state.Reason,
                        sshfs.ReconnectGrace.TotalSeconds
                    );
                    AbortConnection(state.Mount);
                }
                else
                {
                    _log.Warning(
                        "SSHFS mount {DataRoot} is disconnected ({Reason}); detaching it to mount again",
                        _path,
                        state.Reason
                    );
                }
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

    private bool FreshLoginDue(SshfsOptions sshfs)
    {
        var now = _clock.GetUtcNow().UtcTicks;
        if (_freshLoginTriedTicks != 0 && now - _freshLoginTriedTicks < sshfs.ReconnectGrace.Ticks)
        {
            return false;
        }
        _freshLoginTriedTicks = now;
        return true;
    }

    /// <summary>
    /// Null when a second sshfs mount of the storage host, made now at <see cref="FreshLoginPath"/>,
    /// answers statvfs (the host serves new logins, so a mount that stays dead is sshfs's own
    /// fault); else why not. The trial mount is always detached again, and aborted if it hung.
    /// </summary>
    private async Task<string?> FreshLoginFailsAsync(SshfsOptions sshfs, CancellationToken ct)
    {
        var check = FreshLoginPath;
        try
        {
            DetachAll(check);
            await Deadline
                .RunAsync(
                    $"mkdir {check}",
                    () =>
                    {
                        kernel.CreateDirectories(check);
                        return 0;
                    },
                    options.CallTimeout
                )
                .ConfigureAwait(false);
            var result = await runner
                .RunAsync(SshfsArgs.Mount(sshfs, check), sshfs.MountTimeout, ct)
                .ConfigureAwait(false);
            if (!result.Succeeded)
            {
                return $"sshfs {sshfs.Remote} {check} failed: {result.StandardError.Trim()}";
            }
            await Deadline
                .RunAsync($"statvfs {check}", () => FsStats.Of(kernel, check), options.CallTimeout)
                .ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is Errors.ZfsCsiException or IOException)
        {
            if (MountTable.Read(kernel).At(check).LastOrDefault() is { } hung)
            {
                AbortConnection(hung);
            }
            return e.Message;
        }
        finally
        {
            DetachAll(check);
        }
    }

    /// <summary>
    /// Ends the FUSE connection of a stuck sshfs mount (<see cref="FuseControl"/>): the calls
    /// already waiting on it (abandoned by <see cref="Deadline"/>, each holding a thread) and every
    /// call through a pod's bind of it fail at once instead of waiting on an sshfs that will not
    /// answer, and that sshfs exits instead of lingering beside the new one. Without it the old
    /// mount is only detached, and those calls wait until its sshfs answers or dies.
    /// </summary>
    private void AbortConnection(MountEntry mount)
    {
        if (!mount.IsSshfs)
        {
            return;
        }
        if (FuseControl.Abort(kernel, mount.Device) is var errno and not 0)
        {
            _log.Warning(
                "Cannot abort the FUSE connection {Device} of {DataRoot} through {FuseControl}: {Errno}; calls waiting on its sshfs wait until it answers or dies",
                mount.Device,
                _path,
                FuseControl.MountPoint,
                Errno.Describe(errno)
            );
        }
    }

    /// <summary>Lazily unmounts every mount stacked on /data or the fresh-login trial (MNT_DETACH: a dead FUSE mount cannot be unmounted any other way without hanging).</summary>
    private void DetachAll() => DetachAll(_path);

    private void DetachAll(string path)
    {
        for (var i = 0; i < 8 && MountTable.Read(kernel).At(path).Count > 0; i++)
        {
            if (kernel.Umount2(path, Native.MntDetach | Native.UmountNofollow) is var errno and not 0)
            {
                _log.Warning("umount2 {Path} MNT_DETACH failed: {Errno}", path, Errno.Describe(errno));
                return;
            }
        }
    }
}
