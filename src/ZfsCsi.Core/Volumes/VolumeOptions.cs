using ZfsCsi.Core.Options;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

/// <summary>Where volumes live and how long a half-made one may wait for its retry. Checked at start-up.</summary>
public sealed class VolumeOptions
{
    /// <summary>Longest parent name, so that parent/leaf fits CSI's 128-byte volume id.</summary>
    public const int MaxParentLength = VolumeId.MaxLength - 1 - VolumeNaming.MaxPlainLength;

    /// <summary>The shortest <see cref="CreatingGrace"/> accepted, whatever the timeouts.</summary>
    public static readonly TimeSpan MinimumCreatingGrace = TimeSpan.FromMinutes(10);

    /// <summary>The longest <see cref="CreatingGrace"/> accepted: a year (beyond that, nothing would ever be swept).</summary>
    public static readonly TimeSpan MaximumCreatingGrace = TimeSpan.FromDays(365);

    /// <summary>The grace when none is configured (raised by <see cref="Validate"/> when the timeouts allow longer creates).</summary>
    public static readonly TimeSpan DefaultCreatingGrace = TimeSpan.FromHours(1);

    /// <summary>
    /// Upper bounds on what one CreateVolume does (the clone path with its one re-read, finishing
    /// steps, moving a deleted namesake aside): zfs processes, each bounded by the command timeout,
    /// and waits for the mount lock, each bounded by the lock timeout. Generous on purpose: the
    /// grace only has to be longer than any create, never tight.
    /// </summary>
    private const int MaxCommandsPerCreate = 32;

    private const int MaxMountLockWaitsPerCreate = 4;

    private TimeSpan? _creatingGrace;

    /// <summary>The default period of the controller's own sweep, besides the one a delete asks for.</summary>
    public static readonly TimeSpan DefaultSweepInterval = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often the controller sweeps by itself (<see cref="VolumeManager.SweepAsync"/>), so that
    /// an abandoned half-made volume or a crash's leftovers go even when no delete comes to sweep
    /// after it. Zero: only when a delete asks for one (<see cref="SweepRequests"/>).
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = DefaultSweepInterval;

    /// <summary>The dataset every volume is created under, one child dataset per volume.</summary>
    public string ParentDataset { get; set; } = "data/k8s";

    public DatasetName Parent => DatasetName.Parse(ParentDataset);

    /// <summary>The default <see cref="KeyDirectory"/>: on the storage host's root disk, never in the pool (README, "Encryption").</summary>
    public const string DefaultKeyDirectory = "/etc/zfs-csi/keys";

    /// <summary>
    /// Where encrypted volumes' key files are written (<c>--key-dir</c>): an absolute directory on
    /// the storage host's root disk, the same path for the controller and for the bootstrap, since
    /// each volume's keylocation names its file there. Made 0700 when the first key is written.
    /// </summary>
    public string KeyDirectory { get; set; } = DefaultKeyDirectory;

    public KeyStore Keys => new(KeyDirectory);

    /// <summary>
    /// How long a dataset may stay in state "creating" before the sweep takes it for abandoned: a
    /// CreateVolume that crashed or timed out and that the CO never retried (the PVC was deleted, so
    /// no DeleteVolume will ever come for an id the CO never learned). Far longer than any create
    /// can take, so a live create or its retry is never destroyed under it.
    /// </summary>
    public TimeSpan CreatingGrace
    {
        get => _creatingGrace ?? DefaultCreatingGrace;
        set => _creatingGrace = value;
    }

    /// <summary>The longest a CreateVolume can run with these zfs settings (every command and every lock wait at its limit).</summary>
    public static TimeSpan LongestCreate(ZfsOptions zfs) =>
        zfs.CommandTimeout * MaxCommandsPerCreate
        + zfs.MountLockTimeout * MaxMountLockWaitsPerCreate
        + TimeSpan.FromSeconds(10);

    /// <summary>
    /// Start-up checks that need the zfs settings too: a configured grace must outlast the longest
    /// create; with none configured, the default is raised to that when long timeouts need it.
    /// </summary>
    public void Validate(ZfsOptions zfs)
    {
        if (
            SweepInterval != TimeSpan.Zero
            && (SweepInterval < TimeSpan.FromSeconds(10) || SweepInterval > TimeSpan.FromDays(1))
        )
        {
            throw new OptionsException(
                $"--sweep-interval {SweepInterval.TotalSeconds:F0}: expected 0 (only after deletes) or 10 to 86400 seconds"
            );
        }
        if (!Path.IsPathFullyQualified(KeyDirectory) || KeyDirectory.TrimEnd('/').Length == 0)
        {
            throw new OptionsException(
                $"--key-dir '{KeyDirectory}': expected an absolute directory other than / (on the storage host's root disk)"
            );
        }
        var longest = LongestCreate(zfs);
        if (_creatingGrace is null)
        {
            _creatingGrace = longest > DefaultCreatingGrace ? longest : null;
            return;
        }
        if (CreatingGrace < MinimumCreatingGrace || CreatingGrace > MaximumCreatingGrace)
        {
            throw new OptionsException(
                $"--creating-grace {CreatingGrace.TotalSeconds:F0}: expected {MinimumCreatingGrace.TotalSeconds:F0} to {MaximumCreatingGrace.TotalSeconds:F0} seconds"
            );
        }
        if (CreatingGrace < longest)
        {
            throw new OptionsException(
                $"--creating-grace {CreatingGrace.TotalSeconds:F0} is shorter than the longest a CreateVolume can take with these timeouts "
                    + $"({longest.TotalSeconds:F0} s: {MaxCommandsPerCreate} x --zfs-timeout + {MaxMountLockWaitsPerCreate} x --mount-lock-timeout + 10 s); "
                    + "the sweep could destroy a volume that is still being created. Raise it or lower the timeouts"
            );
        }
    }
}
