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

    // When a fresh login beside the stuck mount first answered in this spell of it (UTC ticks; 0:
    // none did): the storage host serves since then, and sshfs gets one more grace to reconnect.
    private long _servingSinceTicks;

    // While sshfs runs: it puts its FUSE mount in place before its ssh has logged in (seen with
    // sshfs 3.7 when the storage host refuses the connection: the mount shows for ~10 ms, then goes
    // with sshfs's exit 1), and it answers statvfs itself until it knows the server's. A look in
    // that window would call a mount that is about to fail alive, and a publish would bind it.
    private volatile bool _mounting;
    private readonly string _path = options.DataRoot.Length > 1 ? options.DataRoot.TrimEnd('/') : options.DataRoot;

    public string Path => _path;

    /// <summary>
    /// Where a fresh SSHFS mount is tried beside a stuck one: a hidden sibling of the data root
    /// (/.data.zfs-csi-check for /data), in the plugin's own root filesystem (the container's, in a
    /// pod), never under the data root or kubelet's directory.
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
            Interlocked.Exchange(ref _servingSinceTicks, 0);
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
    /// than its grace; else null. A mount that answers an error (EIO) gets
    /// <see cref="SshfsOptions.ReconnectGrace"/>, what sshfs's own reconnect needs; one that does not
    /// answer at all gets <see cref="SshfsOptions.HungGrace"/>, minutes: a storage host that is only
    /// slow (sftp-server answers one request at a time per session, and a pod's fsync on a busy pool
    /// can hold it) answers in the end, while its keep-alives keep ssh up. An sshfs whose ssh neither
    /// answers nor dies never starts a reconnect.
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
        return stuck >= (state.Hung ? sshfs.HungGrace : sshfs.ReconnectGrace) ? stuck : null;
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
            // ECONNABORTED: a call that was waiting when the connection was aborted (fusectl).
            return DataRootState.Dead(
                $"{_path} ({mount.FsType} {mount.Source}) is dead: {e.Message}",
                mount,
                e.Errno is Errno.ENOTCONN or Errno.ECONNABORTED
            );
        }
        catch (DeadMountException e)
        {
            return DataRootState.Dead(e.Message, mount) with { Hung = true };
        }
    }

    /// <summary>
    /// /data alive, or UNAVAILABLE. When this node owns the SSHFS mount and it is missing or its
    /// sshfs process is gone (ENOTCONN), it is re-established first; a link that is down (EIO, no
    /// answer) is left to sshfs's own reconnect, and a mount stuck past that to the supervisor
    /// (<see cref="EnsureMountedAsync"/>), so the call fails fast instead of waiting on either.
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
    /// disconnected one (sshfs gone: ENOTCONN) is detached and made again. One dead past its grace
    /// (<see cref="StuckPastReconnect"/>) is replaced only when the storage host is seen serving
    /// and sshfs still does not reconnect: a trial mount beside it answers, and again one grace
    /// later with the old mount dead all along (<see cref="ReplaceStuckAsync"/>). Logs what it did.
    /// Binds made from a replaced mount stay on it: a publish replaces such a stale bind, stats and
    /// health report it.
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
                    if (await ReplaceStuckAsync(sshfs, state, deadFor, ct).ConfigureAwait(false) is { } unchanged)
                    {
                        return unchanged;
                    }
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
            await CreateDirectoriesAsync(_path).ConfigureAwait(false);
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

    /// <summary>
    /// A mount dead past its grace: null when it is to be detached and mounted again (its FUSE
    /// connection aborted), else the state to answer, the mount left to sshfs. A storage host that
    /// is down or rebooting fails the trial login too, and sshfs's reconnect brings every pod's
    /// bind of the same mount back once the host answers; replacing the mount would leave those
    /// binds dead until their pods restart. So the mount is replaced only when a trial login
    /// answers, a second one answers a grace after the first, the old mount is dead all along
    /// (the spell would have ended at any answer), and a last look after the second trial finds the
    /// same mount still dead.
    /// </summary>
    private async Task<DataRootState?> ReplaceStuckAsync(
        SshfsOptions sshfs,
        DataRootState state,
        TimeSpan deadFor,
        CancellationToken ct
    )
    {
        if (!FreshLoginDue(sshfs, out var tried))
        {
            return state;
        }
        if (await FreshLoginFailsAsync(sshfs, ct).ConfigureAwait(false) is { } why)
        {
            Interlocked.Exchange(ref _servingSinceTicks, 0);
            _log.Information(
                "SSHFS mount {DataRoot} has been dead for {DeadSeconds:F0} s ({Reason}) and a trial login beside it fails too ({FreshLogin}); leaving the mount to sshfs's reconnect",
                _path,
                deadFor.TotalSeconds,
                state.Reason,
                why
            );
            return state;
        }
        var servingSince = Interlocked.CompareExchange(ref _servingSinceTicks, tried, 0);
        if (servingSince == 0 || tried - servingSince < sshfs.ReconnectGrace.Ticks)
        {
            _log.Information(
                "SSHFS mount {DataRoot} has been dead for {DeadSeconds:F0} s ({Reason}) while a trial login beside it answers; giving sshfs's reconnect {GraceSeconds:F0} s more",
                _path,
                deadFor.TotalSeconds,
                state.Reason,
                sshfs.ReconnectGrace.TotalSeconds
            );
            return state;
        }
        // sshfs may have come back (or gone) while the trial ran: act only on the same mount, still dead.
        var again = await ProbeAsync().ConfigureAwait(false);
        if (again.Alive || again.Mount is null || again.Mount.Id != state.Mount!.Id)
        {
            return again;
        }
        _log.Warning(
            "SSHFS mount {DataRoot} has been dead for {DeadSeconds:F0} s ({Reason}) while trial logins beside it answered for {ServingSeconds:F0} s: its sshfs does not reconnect; aborting its FUSE connection and detaching it to mount again",
            _path,
            deadFor.TotalSeconds,
            again.Reason,
            TimeSpan.FromTicks(_clock.GetUtcNow().UtcTicks - servingSince).TotalSeconds
        );
        AbortConnection(again.Mount);
        return null;
    }

    private bool FreshLoginDue(SshfsOptions sshfs, out long now)
    {
        now = _clock.GetUtcNow().UtcTicks;
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
            await CreateDirectoriesAsync(check).ConfigureAwait(false);
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

    /// <summary>mkdir -p of a mount point, bounded: even an unmounted path can sit on another dead mount.</summary>
    private Task<int> CreateDirectoriesAsync(string path) =>
        Deadline.RunAsync(
            $"mkdir {path}",
            () =>
            {
                kernel.CreateDirectories(path);
                return 0;
            },
            options.CallTimeout
        );

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
