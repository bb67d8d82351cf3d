using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Mount;

public sealed partial class NodeVolumes
{
    /// <summary>
    /// CSI spec, NodePublishVolume: bind the volume's directory at <paramref name="targetPath"/>,
    /// read-only or with the requested flags. Idempotent: the same bind again is OK; a bind of this
    /// volume with other flags is ALREADY_EXISTS; a bind left from a dead SSHFS mount, or the fence
    /// left where a bind was cut (<see cref="Fence"/>), is replaced; any other mount there, or a
    /// file or symlink in the target's place, is FAILED_PRECONDITION and left alone. With
    /// <see cref="TargetSharing.SingleTarget"/> (SINGLE_NODE_SINGLE_WRITER) a volume published at
    /// another target on this node is FAILED_PRECONDITION (<see cref="PublishedTargets"/>: read from
    /// the mount table, so it holds across plugin restarts); the caller serialises such publishes
    /// per volume.
    /// </summary>
    public async Task PublishAsync(
        VolumeId id,
        string targetPath,
        MountFlags flags,
        TargetSharing sharing,
        CancellationToken ct
    )
    {
        var target = CheckTarget(targetPath, "target_path");
        await dataRoot.RequireAliveAsync(ct).ConfigureAwait(false);
        using var dir = await OpenVolumeAsync(id).ConfigureAwait(false);
        if (await NotMountedReasonAsync(id, dir).ConfigureAwait(false) is { } notMounted)
        {
            throw new FailedPreconditionException(notMounted);
        }
        var table = MountTable.Read(kernel);
        var source = table.SourceOf(DirectoryOf(id))
            ?? throw new DeadMountException($"{DirectoryOf(id)} is on no mount; is {dataRoot.Path} mounted?");
        if (
            sharing == TargetSharing.SingleTarget
            && PublishedTargets.Of(table, source, id.Value, KubeletDir).FirstOrDefault(t => t != target)
                is { } elsewhere
        )
        {
            // CSI spec, NodePublishVolume: SINGLE_NODE_SINGLE_WRITER, T1 != T2: FAILED_PRECONDITION.
            throw new FailedPreconditionException(
                $"volume {id} is SINGLE_NODE_SINGLE_WRITER (ReadWriteOncePod) and already published on this node at {elsewhere}; unpublish it there first (stop the pod that uses it)"
            );
        }
        // Made only now that the request is known to be good: a refused publish leaves nothing behind.
        using var parent = (await OpenTargetParentAsync(target, create: true).ConfigureAwait(false))!;
        if (table.At(target).LastOrDefault() is { } existing)
        {
            if (Fence.Is(existing))
            {
                if (Fence.VolumeOf(existing) != id.Value)
                {
                    throw new FailedPreconditionException(
                        $"{target} holds the fence left for volume {Printable.Of(Fence.VolumeOf(existing))} (its bind was cut while its dataset was not mounted), not volume {id}; unpublish it first"
                    );
                }
                _log.Information(
                    "Replacing the fence at {TargetPath}: dataset {VolumeId} is mounted again",
                    target,
                    id.Value
                );
                await DetachAsync(target, parent).ConfigureAwait(false);
            }
            else if (!source.IsBindOfSameDirectory(existing))
            {
                throw new FailedPreconditionException(
                    $"{target} is already a mount of {existing.Source}:{existing.Root} ({existing.FsType}), not of volume {id}; unpublish it first"
                );
            }
            else if (source.IsCurrentBind(existing) && await IsAnsweringAsync(target, parent).ConfigureAwait(false))
            {
                if (flags.Matches(existing.MountOptions, source.Mount.MountOptions))
                {
                    _log.Information("Volume {VolumeId} is already published at {TargetPath}", id.Value, target);
                    return;
                }
                throw new AlreadyExistsException(
                    $"volume {id} is already published at {target} with other options ({string.Join(',', existing.MountOptions.Order())}); unpublish it first"
                );
            }
            else
            {
                _log.Warning(
                    "Replacing stale bind at {TargetPath} of volume {VolumeId} (device {StaleDevice}, now {Device}): its SSHFS mount is gone",
                    target,
                    id.Value,
                    existing.Device,
                    source.Mount.Device
                );
                await DetachAsync(target, parent).ConfigureAwait(false);
            }
        }
        // The flags kept through the remount are those of the dataset's own mount (source.Mount):
        // on the storage host that is the dataset's ZFS mount (exec=off, setuid=off show there), not /data.
        var remount = flags.RemountFlags(source.Mount.MountOptions);
        await FsAsync(
                $"bind {DirectoryOf(id)} at {target}",
                () =>
                {
                    Bind(dir, parent, NameOf(target), flags.NeedsRemount, remount);
                    return 0;
                },
                SafeDirectory.LeaseAll(dir, parent)
            )
            .ConfigureAwait(false);
        _log.Information(
            "Published volume {VolumeId} at {TargetPath} ({Access}{Flags})",
            id.Value,
            target,
            flags.ReadOnly ? "ro" : "rw",
            flags.Names.Count == 0 ? "" : "," + string.Join(',', flags.Names)
        );
    }

    /// <summary>
    /// mkdirat the target in its opened parent (kubelet does not create it; CSI spec:
    /// "Creation of target_path is the responsibility of the SP"), open it without following a
    /// symlink, bind the opened volume directory onto the opened target, then remount the bind
    /// with its flags (MS_BIND ignores them; CSI readonly and mount_flags need the second step).
    /// Runs on a <see cref="Deadline"/> thread; the caller's fds are leased for its whole run.
    /// </summary>
    private void Bind(SafeDirectory volume, SafeDirectory parent, string name, bool needsRemount, ulong remountFlags)
    {
        // A regular file or a symlink in the target's place is refused here (NotADirectoryException).
        using var targetDir = parent.Descend([name], TargetDirectoryMode);
        if (kernel.Mount(volume.ProcPath, targetDir.ProcPath, null, Native.MsBind, null) is var bindErrno and not 0)
        {
            throw new SyscallException("mount --bind", $"{volume.Path} {targetDir.Path}", bindErrno);
        }
        if (!needsRemount)
        {
            return;
        }
        // Through the parent's fd: the last component is now the bind, and no parent can be swapped.
        var mounted = parent.ChildPath(name);
        if (
            kernel.Mount(null, mounted, null, Native.MsRemount | Native.MsBind | remountFlags, null)
            is var errno
                and not 0
        )
        {
            _ = kernel.Umount2(mounted, Native.MntDetach | Native.UmountNofollow);
            throw new SyscallException("mount -o remount,bind", targetDir.Path, errno);
        }
    }

    /// <summary>Whether a mount answers statvfs in time: a bind of a dead SSHFS mount does not.</summary>
    private async Task<bool> IsAnsweringAsync(string target, SafeDirectory parent)
    {
        try
        {
            var path = parent.ChildPath(NameOf(target));
            await Deadline
                .RunAsync($"statvfs {target}", () => FsStats.Of(kernel, path), options.CallTimeout, parent.Lease())
                .ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SyscallException or DeadMountException)
        {
            return false;
        }
    }
}
