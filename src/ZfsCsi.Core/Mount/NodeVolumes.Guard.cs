using System.Diagnostics;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Mount;

public sealed partial class NodeVolumes
{
    /// <summary>
    /// Re-checks every published bind every <see cref="NodeOptions.BindCheckInterval"/> until
    /// <paramref name="ct"/> ends (<see cref="GuardOnceAsync"/>). Never throws: a failed round is
    /// logged and the next one runs.
    /// </summary>
    public async Task GuardBindsAsync(Func<string, IDisposable?> tryLockTarget, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await GuardOnceAsync(tryLockTarget, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Whatever went wrong in one round, the guard must keep running: an exception that
                // left this loop would end the node plugin's host (BackgroundService).
                _log.Warning(e, "Checking the published binds failed: {Reason}", e.Message);
            }
            try
            {
                await Task.Delay(options.BindCheckInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One look at every bind of this node's /data under the kubelet directory. Over SSHFS a bind
    /// points at a path on the storage host, not at a dataset: if the dataset is unmounted there
    /// while the volume is published (by hand, or the storage host rebooted and sshd answers before
    /// `zfs mount -a`), the same path is now the parent dataset's directory and the pod's writes
    /// land in the parent. Such a bind is cut (<see cref="FenceAsync"/>). The check is the
    /// publish-time one: the bind answers statvfs with exactly its parent's numbers. On the storage
    /// host binds hold the dataset's own ZFS mount, so nothing can fall through to the parent and nothing is checked.
    /// <paramref name="tryLockTarget"/> takes the RPCs' lock of a target (null when busy: that
    /// target waits for the next round). Returns the targets fenced.
    /// <para>
    /// Limit: this acts on the node's mount table. A container started before the cut holds its
    /// own copy of the bind (kubelet's default mountPropagation None is rprivate), which the cut
    /// does not reach; only the storage host's side can stop its writes (for instance an SFTP user that may
    /// not write the root-owned directory a dataset's mount covers). A container (re)started after
    /// the cut gets the fence, and stats and health report the volume unavailable.
    /// </para>
    /// </summary>
    public async Task<IReadOnlyList<string>> GuardOnceAsync(
        Func<string, IDisposable?> tryLockTarget,
        CancellationToken ct
    )
    {
        var state = await dataRoot.ProbeAsync().ConfigureAwait(false);
        if (!state.Alive || state.Mount is not { } root || root.IsZfs)
        {
            return [];
        }
        var table = MountTable.Read(kernel);
        var binds = table
            .Entries.Where(e =>
                e.MountPoint.StartsWith(KubeletDir + "/", StringComparison.Ordinal)
                && e.Source == root.Source
                && e.FsType == root.FsType
                && e.Device == root.Device
                && table.At(e.MountPoint)[^1] == e
            )
            .Select(e => (Bind: e, Id: VolumeOfBindRoot(e.Root)))
            .Where(b => b.Id is not null)
            .Select(b => (b.Bind, Id: b.Id!.Value))
            .ToList();
        var fenced = new List<string>();
        if (binds.Count == 0)
        {
            return fenced;
        }
        var parentDir = ParentDirectory;
        var before = await FsAsync($"statvfs {parentDir}", () => FsStats.Of(kernel, parentDir)).ConfigureAwait(false);
        foreach (var (bind, id) in binds)
        {
            ct.ThrowIfCancellationRequested();
            var target = bind.MountPoint;
            FsStats volume;
            try
            {
                volume = await FsAsync($"statvfs {target}", () => FsStats.Of(kernel, target)).ConfigureAwait(false);
            }
            catch (ZfsCsiException e) when (e is not DeadMountException)
            {
                // Gone on the storage host (ENOENT): every access through the bind fails already, nothing lands anywhere.
                _log.Debug("Cannot check the bind at {TargetPath}: {Reason}", target, e.Message);
                continue;
            }
            var after = await FsAsync($"statvfs {parentDir}", () => FsStats.Of(kernel, parentDir))
                .ConfigureAwait(false);
            var notMounted = before == after && volume == after;
            before = after;
            if (notMounted && await FenceAsync(id, bind, tryLockTarget).ConfigureAwait(false))
            {
                fenced.Add(target);
            }
        }
        return fenced;
    }

    /// <summary>
    /// Cuts the bind at <paramref name="bind"/>'s target: first a read-only remount (new writes
    /// fail at once with EROFS, also for processes whose working directory is inside; refused
    /// with EBUSY while a file is open for writing, which is logged), then a lazy unmount
    /// (MNT_DETACH: it never blocks, and the path stops leading to the storage host), then a
    /// <see cref="Fence"/> on the bare directory, so a write to the path fails instead of landing
    /// on the node's disk and stats and health report the volume unavailable. Under the target's
    /// lock, after checking that the bind is still the one that was measured.
    /// </summary>
    private async Task<bool> FenceAsync(VolumeId id, MountEntry bind, Func<string, IDisposable?> tryLockTarget)
    {
        var target = bind.MountPoint;
        using var locked = tryLockTarget(target);
        if (locked is null)
        {
            _log.Debug("Bind at {TargetPath} needs a fence but an operation on it is in progress; next round", target);
            return false;
        }
        if (MountTable.Read(kernel).At(target).LastOrDefault()?.Id != bind.Id)
        {
            return false;
        }
        var started = Stopwatch.GetTimestamp();
        using var parent = await OpenTargetParentAsync(target, create: false).ConfigureAwait(false);
        if (parent is null)
        {
            return false;
        }
        var name = NameOf(target);
        var readOnlyErrno = await FsAsync(
                $"fence {target}",
                () =>
                {
                    var path = parent.ChildPath(name);
                    var ro = kernel.Mount(
                        null,
                        path,
                        null,
                        Native.MsRemount | Native.MsBind | Native.MsRdonly | MountFlags.Kept(bind.MountOptions),
                        null
                    );
                    if (kernel.Umount2(path, Native.MntDetach | Native.UmountNofollow) is var detachErrno and not 0)
                    {
                        throw new SyscallException("umount2 MNT_DETACH", target, detachErrno);
                    }
                    using var bare = parent.Descend([name]);
                    if (
                        kernel.Mount(
                            Fence.SourceFor(id.Value),
                            bare.ProcPath,
                            Fence.FsType,
                            Fence.MountFlags,
                            Fence.MountData
                        )
                        is var fenceErrno
                            and not 0
                    )
                    {
                        throw new SyscallException("mount tmpfs (fence)", target, fenceErrno);
                    }
                    return ro;
                },
                parent.Lease()
            )
            .ConfigureAwait(false);
        _log.Warning(
            "Cut the bind of volume {VolumeId} at {TargetPath} in {DurationMs:F1} ms: its dataset is not mounted on the pool's host, so writes there would land in the parent dataset {Parent}; "
                + "left an empty read-only fence until NodePublishVolume binds it again (read-only first: {ReadOnlyFirst})",
            id.Value,
            target,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            _parent.Value,
            readOnlyErrno == 0
                ? "yes"
                : $"no, {Errno.Describe(readOnlyErrno)}: files already open for writing can still write until closed"
        );
        metrics?.BindFenced(id);
        return true;
    }
}
