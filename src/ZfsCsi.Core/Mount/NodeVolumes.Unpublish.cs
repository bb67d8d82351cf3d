using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Mount;

public sealed partial class NodeVolumes
{
    /// <summary>
    /// CSI spec, NodeUnpublishVolume: unmount whatever is at the target and remove the directory
    /// ("The SP MUST delete the file or directory it created at this path"). A target that is not
    /// mounted, or gone, is OK (the call is idempotent). A bind of a dead SSHFS mount is detached
    /// (MNT_DETACH) rather than unmounted, which would hang or fail. Everything is done from an fd
    /// of the target's parent reached without following symlinks: a pod directory swapped for a
    /// symlink cannot make the node unmount or remove anything outside the kubelet directory.
    /// </summary>
    public async Task UnpublishAsync(string targetPath, CancellationToken ct)
    {
        var target = CheckTarget(targetPath, "target_path");
        using var parent = await OpenTargetParentAsync(target, create: false).ConfigureAwait(false);
        if (parent is null)
        {
            _log.Information("Unpublished {TargetPath}: its directory does not exist", target);
            return;
        }
        await DetachAsync(target, parent).ConfigureAwait(false);
        var name = NameOf(target);
        var removed = await FsAsync($"rmdir {target}", () => parent.RemoveChildDirectory(name), parent.Lease())
            .ConfigureAwait(false);
        if (removed == Errno.ENOTDIR)
        {
            // Not ours to delete: we only ever make directories here.
            throw new NotADirectoryException(target, "not a directory (a file or symbolic link)");
        }
        if (removed is not (0 or Errno.ENOENT))
        {
            // Something wrote into the bare directory itself; kubelet removes the pod's directory tree later.
            _log.Warning("Left {TargetPath} in place after unmounting: {Errno}", target, Errno.Describe(removed));
        }
        _log.Information("Unpublished {TargetPath}", target);
    }

    /// <summary>Unmounts every mount stacked at <paramref name="target"/> (a child of <paramref name="parent"/>); dead ones lazily.</summary>
    private async Task DetachAsync(string target, SafeDirectory parent)
    {
        var path = parent.ChildPath(NameOf(target));
        var busy = 0;
        for (var i = 0; i < 32; i++)
        {
            var top = MountTable.Read(kernel).At(target).LastOrDefault();
            if (top is null)
            {
                return;
            }
            int errno;
            try
            {
                errno = await Deadline
                    .RunAsync(
                        $"umount {target}",
                        () => kernel.Umount2(path, Native.UmountNofollow),
                        options.CallTimeout,
                        parent.Lease()
                    )
                    .ConfigureAwait(false);
            }
            catch (DeadMountException)
            {
                errno = Errno.ENOTCONN;
            }
            if (errno is 0 or Errno.EINVAL)
            {
                continue;
            }
            // A path lookup in flight holds the mount for a moment (seen right after publish): retry briefly.
            if (errno == Errno.EBUSY && ++busy < 10)
            {
                await Task.Delay(50).ConfigureAwait(false);
                continue;
            }
            if (
                errno == Errno.EBUSY && !await IsAnsweringAsync(target, parent).ConfigureAwait(false)
                || Errno.MeansDeadMount(errno)
            )
            {
                _log.Warning(
                    "Detaching dead mount {TargetPath} ({FsType} {Source}): {Errno}",
                    target,
                    top.FsType,
                    top.Source,
                    Errno.Describe(errno)
                );
                // MNT_DETACH does not touch the filesystem, so it cannot hang on a dead one.
                using var lease = parent.Lease();
                if (kernel.Umount2(path, Native.MntDetach | Native.UmountNofollow) is var e and not (0 or Errno.EINVAL))
                {
                    throw new ZfsCsiException(ErrorKind.Internal, $"umount2 {target} MNT_DETACH: {Errno.Describe(e)}");
                }
                continue;
            }
            throw errno == Errno.EBUSY
                ? new FailedPreconditionException($"{target} is busy: a process still uses the volume there")
                : new ZfsCsiException(ErrorKind.Internal, $"umount {target}: {Errno.Describe(errno)}");
        }
        throw new ZfsCsiException(ErrorKind.Internal, $"{target} still has mounts after 32 attempts to unmount");
    }
}
