using Serilog;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Volumes;

/// <summary>
/// A <see cref="VolumeManager"/> on a <see cref="FakeCommandRunner"/>, parent data/k8s, with a real
/// temporary directory standing in for a volume's mountpoint (so RootDirectory.Apply really runs).
/// </summary>
public abstract class VolumeManagerHarness : IDisposable
{
    public const string Name = "pvc-5f0c1a9e-3b7d-4c2a-9e61-0d8f2b6a7c11";
    public const string Dataset = "data/k8s/" + Name;
    public const long GiB = CapacityRange.GiB;

    private readonly MountSerializer _mounts = new(lockFile: null);
    private readonly DirectoryInfo _mountpoint = Directory.CreateTempSubdirectory("zfs-csi-unit-");

    protected FakeCommandRunner Runner { get; } = new();

    protected ZfsOptions Options { get; } =
        new()
        {
            CommandTimeout = TimeSpan.FromSeconds(5),
            BusyAttempts = 3,
            BusyRetryDelay = TimeSpan.FromMilliseconds(1),
            MountLockFile = "",
        };

    /// <summary>The real directory the fake zfs reports as the volume's mountpoint.</summary>
    protected string Mountpoint => _mountpoint.FullName;

    protected VolumeManager Manager =>
        new(
            new ZfsClient(Runner, Options, _mounts),
            new VolumeOptions { ParentDataset = "data/k8s" },
            new LoggerConfiguration().CreateLogger(),
            Sweeps,
            Locks
        );

    /// <summary>Where the managers' deletes ask for a sweep: a test sees whether one was asked for.</summary>
    protected SweepRequests Sweeps { get; } = new();

    /// <summary>The driver's per-volume locks the managers take: a test holds one to play an operation in progress.</summary>
    protected OperationLocks Locks { get; } = new();

    /// <summary>A manager with a clock and volume options of the test's choosing, taking <see cref="Locks"/>.</summary>
    protected VolumeManager ManagerWith(TimeProvider? clock = null, VolumeOptions? volumes = null) =>
        new(
            new ZfsClient(Runner, Options, _mounts),
            volumes ?? new VolumeOptions { ParentDataset = "data/k8s" },
            new LoggerConfiguration().CreateLogger(),
            Sweeps,
            Locks,
            clock
        );

    protected static CancellationToken Ct => CancellationToken.None;

    /// <summary>The rows of a volume of ours, ready, 1 GiB refquota, default parameters, mounted at <see cref="Mountpoint"/>.</summary>
    protected string Ours(
        string dataset = Dataset,
        string name = Name,
        string state = Markers.StateReady,
        long refquota = GiB,
        long quota = 0,
        long refreservation = 0,
        long reservation = 0,
        string? digest = null,
        bool mounted = true
    ) =>
        ZfsScript.VolumeRows(
            dataset,
            name,
            digest,
            state,
            refquota,
            quota,
            refreservation,
            reservation,
            Mountpoint,
            mounted
        );

    protected string Foreign(string dataset = Dataset) =>
        ZfsScript.VolumeRows(dataset, csiName: null, refquota: 2 * GiB, mountpoint: Mountpoint);

    public void Dispose()
    {
        _mounts.Dispose();
        _mountpoint.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }
}
