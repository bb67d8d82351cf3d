using Prometheus;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Metrics;
using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Driver.Metrics;

/// <summary>
/// The node plugin's data root and binds: the data root's state at the last look, SSHFS mounts made
/// and failed (more than one mount means reconnects), binds fenced by the bind check and failed
/// NodeGetVolumeStats per volume.
/// </summary>
public sealed class NodeMetrics(MetricsRegistry metrics) : INodeMetrics
{
    /// <summary>The values of the state label: answering, not mounted at all, or mounted and not answering (a dead SSHFS link).</summary>
    internal static readonly string[] States = ["up", "unmounted", "dead"];

    private readonly Gauge _state = metrics.Factory.CreateGauge(
        "zfs_csi_node_data_root_state",
        "The node's data root (/data, SSHFS or the pool itself) at the last look: 1 for the state it is in (up, unmounted, dead), 0 for the others.",
        ["state"]
    );

    private readonly Counter _mounts = metrics.Factory.CreateCounter(
        "zfs_csi_node_sshfs_mounts_total",
        "SSHFS mounts of the data root this plugin made: the first one and every re-mount after a disconnect."
    );

    private readonly Counter _mountFailures = metrics.Factory.CreateCounter(
        "zfs_csi_node_sshfs_mount_failures_total",
        "SSHFS mounts of the data root this plugin tried that failed."
    );

    private readonly Counter _fenced = metrics.Factory.CreateCounter(
        "zfs_csi_node_binds_fenced_total",
        "Binds the bind check cut because the volume's dataset was not mounted on the storage host, by volume.",
        ["volume_id"]
    );

    private readonly Counter _statsFailures = metrics.Factory.CreateCounter(
        "zfs_csi_node_volume_stats_failures_total",
        "NodeGetVolumeStats calls that failed, by volume and reason (unavailable: dead data root or fenced bind; not_found: not published at that path).",
        ["volume_id", "reason"]
    );

    public void DataRootProbed(DataRootState state)
    {
        var current =
            state.Alive ? "up"
            : state.Mount is null ? "unmounted"
            : "dead";
        foreach (var s in States)
        {
            _state.WithLabels(s).Set(s == current ? 1 : 0);
        }
    }

    public void SshfsMounted() => _mounts.Inc();

    public void SshfsMountFailed() => _mountFailures.Inc();

    public void BindFenced(VolumeId volume) => _fenced.WithLabels(volume.Value).Inc();

    public void VolumeStatsFailed(VolumeId volume, ErrorKind kind) =>
        _statsFailures.WithLabels(volume.Value, Reason(kind)).Inc();

    /// <summary>An error kind as a label value, snake_case as Prometheus label values usually are.</summary>
    internal static string Reason(ErrorKind kind) =>
        kind switch
        {
            ErrorKind.InvalidInput => "invalid_input",
            ErrorKind.NotFound => "not_found",
            ErrorKind.AlreadyExists => "already_exists",
            ErrorKind.OutOfSpace => "out_of_space",
            ErrorKind.OutOfRange => "out_of_range",
            ErrorKind.FailedPrecondition => "failed_precondition",
            ErrorKind.Aborted => "aborted",
            ErrorKind.Unavailable => "unavailable",
            ErrorKind.Timeout => "timeout",
            _ => "internal",
        };
}
