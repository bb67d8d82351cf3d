using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Core.Mount;

public sealed partial class NodeVolumes
{
    /// <summary>
    /// CSI spec, NodePublishVolume: bind the volume's directory at <paramref name="targetPath"/>,
    /// read-only or with the requested flags. Idempotent: the same bind again is OK; a bind of this
    /// volume with other flags is ALREADY_EXISTS; a bind left from a dead SSHFS mount is replaced;
    /// any other mount there is FAILED_PRECONDITION and left alone.
    /// </summary>
    public async Task PublishAsync(VolumeId id, string targetPath, MountFlags flags, CancellationToken ct)
    {
        var target = TargetPath.Check(targetPath, KubeletDir, "target_path");
        var root = await dataRoot.RequireAliveAsync(ct).ConfigureAwait(false);
        using var dir = await OpenVolumeAsync(id).ConfigureAwait(false);
        if (await NotMountedReasonAsync(id, dir).ConfigureAwait(false) is { } notMounted)
        {
            throw new FailedPreconditionException(notMounted);
        }
        var table = MountTable.Read();
        var source = table.SourceOf(DirectoryOf(id))
            ?? throw new DeadMountException($"{DirectoryOf(id)} is on no mount; is {dataRoot.Path} mounted?");
        var inherited = MountFlags.FromMountOptions(root.Mount!.MountOptions);
        if (table.At(target).LastOrDefault() is { } existing)
        {
            if (!source.IsBindOfSameDirectory(existing))
            {
                throw new FailedPreconditionException(
                    $"{target} is already a mount of {existing.Source}:{existing.Root} ({existing.FsType}), not of volume {id}; unpublish it first");
            }
            if (source.IsCurrentBind(existing) && await IsAnsweringAsync(target).ConfigureAwait(false))
            {
                if (flags.Matches(existing.MountOptions, inherited))
                {
                    _log.Information("Volume {VolumeId} is already published at {TargetPath}", id.Value, target);
                    return;
                }
                throw new AlreadyExistsException(
                    $"volume {id} is already published at {target} with other options ({string.Join(',', existing.MountOptions.Order())}); unpublish it first");
            }
            _log.Warning("Replacing stale bind at {TargetPath} of volume {VolumeId} (device {StaleDevice}, now {Device}): its SSHFS mount is gone",
                target, id.Value, existing.Device, source.Mount.Device);
            await DetachAsync(target).ConfigureAwait(false);
        }
        await FsAsync($"bind {DirectoryOf(id)} at {target}", () =>
        {
            Bind(dir, target, flags, inherited);
            return 0;
        }).ConfigureAwait(false);
        _log.Information("Published volume {VolumeId} at {TargetPath} ({Access}{Flags})",
            id.Value, target, flags.ReadOnly ? "ro" : "rw", flags.Names.Count == 0 ? "" : "," + string.Join(',', flags.Names));
    }

    /// <summary>
    /// mkdir -p the target (kubelet does not create it), open it without following a symlink, bind
    /// the opened volume directory onto the opened target, then remount the bind with its flags
    /// (MS_BIND ignores them; CSI readonly and mount_flags need the second step). The flags /data
    /// carries (SSHFS's nosuid,nodev) are kept: a bind never gets more rights than its source.
    /// </summary>
    private void Bind(SafeDirectory volume, string target, MountFlags flags, ulong inherited)
    {
        Directory.CreateDirectory(target);
        var parent = System.IO.Path.GetDirectoryName(target)!;
        // A symlink among the target's ancestors would lead the mount outside the kubelet directory.
        var kubelet = Native.RealPath(KubeletDir);
        var realParent = Native.RealPath(parent);
        if (realParent != kubelet && !realParent.StartsWith(kubelet + "/", StringComparison.Ordinal))
        {
            throw new InvalidInputException($"target_path {target} leads outside the kubelet directory {KubeletDir} through a symbolic link (to {realParent})");
        }
        using var targetDir = SafeDirectory.Open(parent, [System.IO.Path.GetFileName(target)]);
        if (Native.Mount(volume.ProcPath, targetDir.ProcPath, null, Native.MsBind, 0) != 0)
        {
            throw new SyscallException("mount --bind", $"{volume.Path} {target}", Native.LastErrno);
        }
        if (!flags.NeedsRemount(inherited))
        {
            return;
        }
        if (Native.Mount(null, target, null, Native.MsRemount | Native.MsBind | flags.Flags | inherited, 0) != 0)
        {
            var errno = Native.LastErrno;
            _ = Native.Umount2(target, Native.MntDetach | Native.UmountNofollow);
            throw new SyscallException("mount -o remount,bind", target, errno);
        }
    }

    /// <summary>Whether a mount answers statvfs in time: a bind of a dead SSHFS mount does not.</summary>
    private async Task<bool> IsAnsweringAsync(string path)
    {
        try
        {
            await Deadline.RunAsync($"statvfs {path}", () => FsStats.Of(path), options.CallTimeout).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SyscallException or DeadMountException)
        {
            return false;
        }
    }
}
