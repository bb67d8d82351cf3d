using System.Text.Json.Serialization;

namespace ZfsCsi.Core.Bootstrap;

/// <summary>Where the bootstrap is. Only <see cref="Ready"/> lets the driver report ready.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BootstrapState>))]
public enum BootstrapState
{
    /// <summary>Inspecting the kernel module and the pool.</summary>
    [JsonStringEnumMemberName("checking")]
    Checking,

    /// <summary>Building and installing the ZFS module for the running kernel (minutes).</summary>
    [JsonStringEnumMemberName("rebuilding")]
    Rebuilding,

    /// <summary>Importing the pool.</summary>
    [JsonStringEnumMemberName("importing")]
    Importing,

    /// <summary>Module loaded and matching the userland, pool imported and healthy.</summary>
    [JsonStringEnumMemberName("ready")]
    Ready,

    /// <summary>A step failed; <see cref="BootstrapStatus.Reason"/> says which and what to do.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}

/// <summary>
/// The hand-off from the bootstrap (sidecar or systemd oneshot) to the driver: one small JSON file,
/// replaced atomically (see <see cref="BootstrapStatusFile"/>). The driver's readiness follows
/// <see cref="State"/>; its liveness follows <see cref="Heartbeat"/> while work is in progress.
/// </summary>
public sealed record BootstrapStatus
{
    public required BootstrapState State { get; init; }

    /// <summary>One sentence a person can act on: why not ready, or what is ready.</summary>
    public required string Reason { get; init; }

    /// <summary>The step running or last run (e.g. "make -j2", "zpool import").</summary>
    public string Step { get; init; } = "";

    /// <summary>Seconds since the current check (or rebuild) started.</summary>
    public double ElapsedSeconds { get; init; }

    /// <summary>
    /// The step running right now ("" between steps). Unlike <see cref="Step"/> it is set during the
    /// routine re-checks of a watch sidecar too, which keep the last verdict in <see cref="State"/>.
    /// </summary>
    public string RunningStep { get; init; } = "";

    /// <summary>When <see cref="RunningStep"/> started; null between steps.</summary>
    public DateTimeOffset? StepStarted { get; init; }

    /// <summary>
    /// How long <see cref="RunningStep"/> may take: its command's own timeout (a build step's
    /// --build-timeout, zpool import's --import-timeout plus the mount lock wait). Null: no limit
    /// (waiting for another bootstrap's build lock). Past it plus a margin the step is stuck even
    /// though the heartbeat is fresh: a process in uninterruptible sleep (a hung import) survives
    /// its kill, while the heartbeat timer keeps ticking.
    /// </summary>
    public double? StepLimitSeconds { get; init; }

    /// <summary>Refreshed while the bootstrap is alive, also in the middle of a long build.</summary>
    public required DateTimeOffset Heartbeat { get; init; }

    /// <summary>True for the watch sidecar (it keeps the file fresh); false for a one-shot run whose result stays valid after it exits.</summary>
    public bool Watching { get; init; }

    /// <summary>When this bootstrap process last loaded the zfs module (modprobe zfs succeeded); null: not since it started.</summary>
    public DateTimeOffset? ModuleLoaded { get; init; }

    /// <summary>How long that modprobe took.</summary>
    public double? ModuleLoadSeconds { get; init; }

    /// <summary>When this bootstrap process last finished rebuilding and installing the module; null: not since it started.</summary>
    public DateTimeOffset? ModuleRebuilt { get; init; }

    /// <summary>How long that rebuild took, its retries included.</summary>
    public double? ModuleRebuildSeconds { get; init; }

    public string? Pool { get; init; }
    public string? PoolHealth { get; init; }
    public string? KernelRelease { get; init; }
    public string? ModuleVersion { get; init; }
    public int ProcessId { get; init; } = Environment.ProcessId;

    [JsonIgnore]
    public bool IsInProgress =>
        State is BootstrapState.Checking or BootstrapState.Rebuilding or BootstrapState.Importing;
}
