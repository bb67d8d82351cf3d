using Serilog;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// The node's volumes: bind mounts of &lt;data root&gt;/&lt;dataset path&gt; into kubelet's target
/// paths, their stats and health. Split by concern (Publish, Unpublish, Stats, Health).
/// The volume id is the dataset name, so data/k8s/pvc-1 is &lt;data root&gt;/k8s/pvc-1 (the pool
/// name is the data root itself). Every system call and every read of the mount table goes
/// through <paramref name="kernel"/> (<see cref="LinuxKernel"/> in the driver; a model of the
/// kernel in unit tests).
/// </summary>
public sealed partial class NodeVolumes(
    NodeOptions options,
    VolumeOptions volumes,
    DataRoot dataRoot,
    INodeKernel kernel,
    ILogger logger,
    Metrics.INodeMetrics? metrics = null
)
{
    private readonly ILogger _log = logger.ForContext<NodeVolumes>();
    private readonly DatasetName _parent = volumes.Parent;

    private string KubeletDir => options.KubeletDir.Length > 1 ? options.KubeletDir.TrimEnd('/') : options.KubeletDir;

    /// <summary>The volume an id names, or NOT_FOUND: per the CSI spec an id that is not ours names no volume.</summary>
    public VolumeId ParseId(string id) =>
        VolumeId.TryParse(id, _parent)
        ?? throw new NotFoundException(
            $"volume '{Printable.Of(id)}' does not exist: volume ids of this driver are datasets directly under {_parent}"
        );

    /// <summary>Path components of a volume's directory below the data root (the dataset name without its pool).</summary>
    public static IReadOnlyList<string> Components(VolumeId id) => id.Value.Split('/')[1..];

    /// <summary>The volume's directory as a path, for lookups in mountinfo and messages.</summary>
    public string DirectoryOf(VolumeId id) => dataRoot.Path.TrimEnd('/') + "/" + string.Join('/', Components(id));

    private string ParentDirectory =>
        dataRoot.Path.TrimEnd('/') + "/" + string.Join('/', _parent.Value.Split('/')[1..]);

    /// <summary>
    /// The canonical form of a target path from a request (CSI spec: "an absolute path in the root
    /// filesystem of the process serving this request"), inside the kubelet directory, or INVALID_ARGUMENT.
    /// </summary>
    public string CheckTarget(string path, string field) => TargetPath.Check(path, KubeletDir, field);

    /// <summary>
    /// The volume a bind's root (mountinfo field 4, relative to the data root's filesystem)
    /// belongs to: /k8s/pvc-1 is data/k8s/pvc-1; anything else (the parent, a subdirectory) is null.
    /// </summary>
    public VolumeId? VolumeOfBindRoot(string root) =>
        root.Length > 1 && root[0] == '/' ? VolumeId.TryParse(_parent.Value.Split('/')[0] + root, _parent) : null;

    /// <summary>Opens the volume's directory without following symlinks; NOT_FOUND when it is not there.</summary>
    private async Task<SafeDirectory> OpenVolumeAsync(VolumeId id)
    {
        try
        {
            return await Deadline
                .RunAsync(
                    $"open {DirectoryOf(id)}",
                    () => SafeDirectory.Open(kernel, dataRoot.Path, Components(id)),
                    options.CallTimeout
                )
                .ConfigureAwait(false);
        }
        catch (SyscallException e) when (e.Errno == Errno.ENOENT)
        {
            throw new NotFoundException($"volume {id} does not exist: {DirectoryOf(id)} is missing on this node");
        }
        catch (SyscallException e) when (Errno.MeansDeadMount(e.Errno))
        {
            throw new DeadMountException($"the node's data root does not answer: {e.Message}");
        }
    }

    /// <summary>
    /// The directory holding a target (walked from the kubelet directory without following
    /// symlinks, made when <paramref name="create"/>), or null when it does not exist.
    /// </summary>
    private async Task<SafeDirectory?> OpenTargetParentAsync(string target, bool create)
    {
        var below = TargetPath.Below(target, KubeletDir);
        try
        {
            return await FsAsync($"open {target}'s parent", () =>
                {
                    if (!create)
                    {
                        return SafeDirectory.Open(kernel, KubeletDir, below.Take(below.Count - 1).ToList());
                    }
                    // The kubelet directory itself is configuration (--kubelet-dir), trusted as given.
                    kernel.CreateDirectories(KubeletDir);
                    return SafeDirectory.OpenOrCreate(
                        kernel,
                        KubeletDir,
                        below.Take(below.Count - 1).ToList(),
                        TargetDirectoryMode
                    );
                })
                .ConfigureAwait(false);
        }
        catch (ZfsCsiException e) when (e.InnerException is SyscallException { Errno: Errno.ENOENT } && !create)
        {
            return null;
        }
    }

    /// <summary>
    /// 0755, as mkdir -p made them before: pods enter only through the bind (whose root is the
    /// volume's), but the lab's non-root "pods" run in the node's mount namespace and walk the real path.
    /// </summary>
    private const int TargetDirectoryMode = 0b111_101_101;

    private static string NameOf(string target) => target[(target.LastIndexOf('/') + 1)..];

    /// <summary>
    /// Whether the dataset is really mounted at its directory (an unmounted dataset's directory
    /// belongs to the parent: a bind of it would write into the parent). Where the node sees ZFS's
    /// own mounts (the storage host), mountinfo says it. Over SSHFS the node cannot see the storage
    /// host's mount table and zfs-fuse has no .zfs directory, so it compares statvfs: the storage
    /// host answers statvfs per path with the numbers of the dataset the path is in (blocks, free,
    /// files), and a directory that is not a mounted dataset answers exactly its parent's numbers. The parent is read before and
    /// after, so a parent that changed in between cannot pass for a different dataset.
    /// </summary>
    private async Task<string?> NotMountedReasonAsync(VolumeId id, SafeDirectory dir)
    {
        var path = DirectoryOf(id);
        if (MountTable.Read(kernel).Containing(path) is { IsZfs: true } zfsMount)
        {
            if (zfsMount.MountPoint != path || zfsMount.Source != id.Value)
            {
                return $"dataset {id} is not mounted at {path} (that directory belongs to {zfsMount.Source})";
            }
            // The directory was opened before this check: if the dataset was mounted in between
            // (an import mounting datasets one by one), the open fd is the parent's directory under
            // the new mount, and binding it would send the pod's writes into the parent.
            return dir.MountId == zfsMount.Id
                ? null
                : $"dataset {id} was mounted at {path} while it was being opened; retry";
        }
        var parentDir = ParentDirectory;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var (before, volume, after) = await FsAsync(
                    $"statvfs {path}",
                    () =>
                        (
                            FsStats.Of(kernel, parentDir),
                            FsStats.Of(kernel, dir.ProcPath),
                            FsStats.Of(kernel, parentDir)
                        ),
                    dir.Lease()
                )
                .ConfigureAwait(false);
            if (before != after)
            {
                continue;
            }
            return volume == before
                ? $"dataset {id} is not mounted on the pool's host: {path} shows the same filesystem as its parent {parentDir} (run 'zfs mount {id}' on the host)"
                : null;
        }
        return $"cannot tell whether dataset {id} is mounted: its parent {parentDir} keeps changing; retry";
    }

    /// <summary>A blocking filesystem call with the deadline, its errno turned into the domain's words.</summary>
    private Task<T> FsAsync<T>(string what, Func<T> call) => FsAsync(what, call, held: null);

    /// <summary>As above, keeping <paramref name="held"/> (an fd lease) until the call itself returns.</summary>
    private async Task<T> FsAsync<T>(string what, Func<T> call, IDisposable? held)
    {
        try
        {
            return await Deadline.RunAsync(what, call, options.CallTimeout, held).ConfigureAwait(false);
        }
        catch (SyscallException e) when (Errno.MeansDeadMount(e.Errno))
        {
            throw new DeadMountException($"{what}: the node's data root does not answer: {e.Message}");
        }
        catch (SyscallException e)
        {
            throw new ZfsCsiException(
                e.Errno is Errno.EACCES or Errno.EPERM ? ErrorKind.FailedPrecondition : ErrorKind.Internal,
                $"{what}: {e.Message}",
                e
            );
        }
    }
}
