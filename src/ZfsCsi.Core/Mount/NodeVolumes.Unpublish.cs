using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Mount;

public sealed partial class NodeVolumes
{
    /// <summary>
    /// CSI spec, NodeUnpublishVolume: unmount whatever is at the target and remove the directory.
    /// A target that is not mounted, or gone, is OK (the call is idempotent). A bind of a dead
    /// SSHFS mount is detached (MNT_DETACH) rather than unmounted, which would hang or fail.
    /// </summary>
    public async Task UnpublishAsync(string targetPath, CancellationToken ct)
    {
        var target = TargetPath.Check(targetPath, KubeletDir, "target_path");
        await DetachAsync(target).ConfigureAwait(false);
        var removed = await FsAsync($"rmdir {target}", () => Native.Rmdir(target) == 0 ? 0 : Native.LastErrno).ConfigureAwait(false);
        if (removed is not (0 or Errno.ENOENT))
        {
            // Something wrote into the bare directory itself; kubelet removes the pod's directory tree later.
            _log.Warning("Left {TargetPath} in place after unmounting: {Errno}", target, Errno.Describe(removed));
        }
        _log.Information("Unpublished {TargetPath}", target);
    }

    /// <summary>Unmounts every mount stacked at <paramref name="target"/>; dead ones lazily.</summary>
    private async Task DetachAsync(string target)
    {
        var busy = 0;
        for (var i = 0; i < 32; i++)
        {
            var top = MountTable.Read().At(target).LastOrDefault();
            if (top is null)
            {
                return;
            }
            int errno;
            try
            {
                errno = await Deadline.RunAsync($"umount {target}", () =>
                    Native.Umount2(target, Native.UmountNofollow) == 0 ? 0 : Native.LastErrno, options.CallTimeout).ConfigureAwait(false);
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
            if (errno == Errno.EBUSY && !await IsAnsweringAsync(target).ConfigureAwait(false) || Errno.MeansDeadMount(errno))
            {
                _log.Warning("Detaching dead mount {TargetPath} ({FsType} {Source}): {Errno}", target, top.FsType, top.Source, Errno.Describe(errno));
                if (Native.Umount2(target, Native.MntDetach | Native.UmountNofollow) != 0 && Native.LastErrno is var e and not Errno.EINVAL)
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
