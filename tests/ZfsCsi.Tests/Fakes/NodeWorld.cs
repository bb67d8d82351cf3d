using Csi.V1;
using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Options;
using ZfsCsi.Driver.Services;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Tests.Fakes;

/// <summary>
/// A node plugin (its <see cref="DataRoot"/>, <see cref="NodeVolumes"/> and <see cref="NodeService"/>)
/// on a <see cref="FakeKernel"/>, in one of the two places the driver runs a node:
/// <see cref="OverSshfs"/>, a node that sees the pool root at /data through SSHFS (the storage host
/// answers statvfs per path, with the numbers of the dataset the path is in), or
/// <see cref="OnStorageHost"/>, where /data and every dataset are ZFS's own mounts. Volumes live
/// under data/k8s; targets are kubelet's paths under /var/lib/kubelet.
/// </summary>
public sealed class NodeWorld : IDisposable
{
    public const string Kubelet = "/var/lib/kubelet";
    public const string Data = "/data";
    public const string Parent = "data/k8s";
    public const string SshfsSource = "zfs-csi@storage-host:/";

    private static readonly StatVfs ParentNumbers = FakeStats.Of(
        blocks: 2_000_000,
        free: 1_500_000,
        files: 400_000,
        freeFiles: 390_000
    );
    private ulong _nextVolumeNumbers = 1;

    private NodeWorld(bool overSshfs, bool ownSshfs, string zfsType)
    {
        OverSshfsMount = overSshfs;
        Kernel.MakeDirectories(Kubelet);
        Kernel.MakeDirectories(Data);
        Kernel.MakeDirectories(FuseControl.MountPoint);
        Options = DriverOptions.Parse([
            "--mode",
            "node",
            "--nodeid",
            "n",
            "--kubelet-dir",
            Kubelet,
            "--data-root",
            Data,
            "--parent-dataset",
            Parent,
        ]);
        // Every call of the model answers at once: a deadline only runs out where a test hangs a
        // filesystem (ShortDeadline), never because the machine is busy running other tests.
        Node.CallTimeout = TimeSpan.FromSeconds(10);
        Node.BindCheckInterval = NodeOptions.MinBindCheckInterval;
        if (ownSshfs)
        {
            Node.Sshfs = new SshfsOptions
            {
                Remote = SshfsSource,
                IdentityFile = "/etc/zfs-csi/id",
                KnownHostsFile = "/etc/zfs-csi/known_hosts",
            };
        }
        if (overSshfs)
        {
            Pool = MountPoolOverSshfs();
        }
        else
        {
            ZfsType = zfsType;
            Pool = Kernel.Mount(Data, zfsType, "data", "rw,relatime");
            Pool.MakeDirectories("/k8s");
            ParentDataset = Kernel.Mount(Data + "/k8s", zfsType, Parent, "rw,relatime");
        }
        var logger = Log.CreateLogger();
        DataRoot = new DataRoot(Node, Runner, Kernel, logger, clock: Clock);
        Volumes = new NodeVolumes(Node, Options.Volumes, DataRoot, Kernel, logger);
        Service = new NodeService(Volumes, Locks, Options);
    }

    /// <summary>A node that is not the storage host: /data is an SSHFS mount of the pool root (made by someone else unless <paramref name="ownSshfs"/>).</summary>
    public static NodeWorld OverSshfs(bool ownSshfs = false) => new(overSshfs: true, ownSshfs, "");

    /// <summary>The storage host: /data, data/k8s and every volume are ZFS mounts (<paramref name="zfsType"/>: "zfs" for OpenZFS, "fuse.zfs" for zfs-fuse).</summary>
    public static NodeWorld OnStorageHost(string zfsType = "zfs") => new(overSshfs: false, ownSshfs: false, zfsType);

    public FakeKernel Kernel { get; } = new();
    public FakeCommandRunner Runner { get; } = new();
    public InMemorySink Log { get; } = new();

    /// <summary>The data root's clock: how long /data has stayed dead.</summary>
    public FixedClock Clock { get; } = new(DateTimeOffset.UnixEpoch);
    public OperationLocks Locks { get; } = new();
    public DriverOptions Options { get; }
    public NodeOptions Node => Options.Node;
    public DataRoot DataRoot { get; }
    public NodeVolumes Volumes { get; }
    public NodeService Service { get; }

    /// <summary>A deadline of a fraction of a second, for a test that hangs a filesystem (<see cref="FakeKernel.Hang"/>).</summary>
    public void ShortDeadline() => Node.CallTimeout = TimeSpan.FromMilliseconds(300);

    /// <summary>Over SSHFS: the SSHFS mount of the pool root (/k8s/pvc-1 is volume data/k8s/pvc-1). On the storage host: the pool's root dataset.</summary>
    public FakeFilesystem Pool { get; private set; }

    /// <summary>On the storage host: the ZFS mount of data/k8s.</summary>
    public FakeFilesystem? ParentDataset { get; }

    public bool OverSshfsMount { get; }

    public string? ZfsType { get; }

    /// <summary>A new SSHFS mount of the pool root at /data, as sshfs makes it (nosuid,nodev: FUSE mounts by root), with data/k8s in it.</summary>
    public FakeFilesystem MountPoolOverSshfs()
    {
        Pool = Kernel.Mount(
            Data,
            "fuse.sshfs",
            SshfsSource,
            "rw,nosuid,nodev,relatime",
            "rw,user_id=0,group_id=0,allow_other"
        );
        Pool.MakeDirectories("/k8s");
        Pool.AnswerStatvfs("/k8s", ParentNumbers);
        return Pool;
    }

    public static VolumeId Id(string leaf) =>
        VolumeId.TryParse($"{Parent}/{leaf}", DatasetName.Parse(Parent)) ?? throw new ArgumentException(leaf);

    public static string Target(string pod) => $"{Kubelet}/pods/{pod}/volumes/kubernetes.io~csi/pv/mount";

    public static string DirectoryOf(string leaf) => $"{Data}/k8s/{leaf}";

    /// <summary>
    /// A volume whose dataset is mounted on the storage host. Over SSHFS: its directory, answering
    /// statvfs with numbers of its own (its refquota); on the storage host: a ZFS mount of its own,
    /// with <paramref name="zfsOptions"/> (exec=off shows as noexec) and <paramref name="zfsSuperOptions"/>
    /// (readonly=on mounts a read-only superblock: "ro").
    /// </summary>
    public StatVfs AddVolume(string leaf, string zfsOptions = "rw,relatime", string zfsSuperOptions = "rw")
    {
        var numbers = FakeStats.Of(
            blocks: 16_384 * _nextVolumeNumbers,
            free: 16_000 * _nextVolumeNumbers,
            files: 1_000 + _nextVolumeNumbers,
            freeFiles: 990
        );
        _nextVolumeNumbers++;
        if (OverSshfsMount)
        {
            Pool.MakeDirectories("/k8s/" + leaf);
            Pool.AnswerStatvfs("/k8s/" + leaf, numbers);
        }
        else
        {
            ParentDataset!.MakeDirectories("/" + leaf);
            var fs = Kernel.Mount(DirectoryOf(leaf), ZfsType!, $"{Parent}/{leaf}", zfsOptions, zfsSuperOptions);
            fs.Stats = numbers;
        }
        return numbers;
    }

    /// <summary>
    /// The volume's dataset is unmounted on the storage host (by hand, or the host rebooted and its
    /// sshd answered before `zfs mount -a`): its directory is the parent dataset's again.
    /// </summary>
    public void UnmountOnStorageHost(string leaf)
    {
        if (OverSshfsMount)
        {
            Pool.AnswerStatvfs("/k8s/" + leaf, null);
        }
        else
        {
            Kernel.Detach(DirectoryOf(leaf));
        }
    }

    /// <summary>The top mount at <paramref name="path"/>, from the model's mountinfo through the real parser.</summary>
    public MountEntry? TopAt(string path) => MountTable.Read(Kernel).At(path).LastOrDefault();

    public IReadOnlyList<MountEntry> MountsAt(string path) => MountTable.Read(Kernel).At(path);

    public Task PublishAsync(
        string leaf,
        string target,
        bool readOnly = false,
        TargetSharing sharing = TargetSharing.Shared,
        params string[] flags
    ) => Volumes.PublishAsync(Id(leaf), target, MountFlags.Parse(flags, readOnly), sharing, CancellationToken.None);

    public Task UnpublishAsync(string target) => Volumes.UnpublishAsync(target, CancellationToken.None);

    public Task<FsStats> StatsAsync(string leaf, string path) =>
        Volumes.GetStatsAsync(Id(leaf), path, CancellationToken.None);

    public Task<ZfsCsi.Core.Volumes.VolumeHealth> HealthAsync(string leaf, string? path) =>
        Volumes.GetHealthAsync(Id(leaf), path, CancellationToken.None);

    /// <summary>One round of the bind check, with every target's lock free.</summary>
    public Task<IReadOnlyList<string>> GuardOnceAsync() =>
        Volumes.GuardOnceAsync(target => new Released(), CancellationToken.None);

    /// <summary>NodePublishVolume through the service, as kubelet sends it.</summary>
    public Task<NodePublishVolumeResponse> PublishRpcAsync(
        string leaf,
        string target,
        Mode mode,
        bool readOnly = false,
        params string[] flags
    )
    {
        var capability = new VolumeCapability
        {
            Mount = new VolumeCapability.Types.MountVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
        };
        capability.Mount.MountFlags.Add(flags);
        return Service.NodePublishVolume(
            new NodePublishVolumeRequest
            {
                VolumeId = Id(leaf).Value,
                TargetPath = target,
                Readonly = readOnly,
                VolumeCapability = capability,
            },
            new TestServerCallContext()
        );
    }

    /// <summary>Waits (briefly) until every descriptor is closed: a lease held by a deadline thread is released right after its call returns.</summary>
    public async Task<int> OpenDescriptorsWhenSettledAsync()
    {
        for (var i = 0; i < 100 && Kernel.OpenDescriptors > 0; i++)
        {
            await Task.Delay(10);
        }
        return Kernel.OpenDescriptors;
    }

    public void Dispose() => Kernel.Dispose();

    private sealed class Released : IDisposable
    {
        public void Dispose() { }
    }
}
