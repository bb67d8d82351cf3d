using Serilog;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// Volumes as ZFS datasets: one child of the parent dataset per volume, its capacity a quota,
/// its identity the markers in its own local user properties. Split by concern into partial files.
/// Callers serialise operations on one volume (the driver's per-volume locks); this class keeps
/// every step idempotent so a retry after a crash finishes or cleans what the first try began.
/// </summary>
/// <param name="sweeps">Where deletes ask for a sweep (run by the controller's background sweep, never inside an RPC).</param>
/// <param name="locks">The driver's per-volume locks: the sweep and the snapshot-name claims take the same ones as the services, so background work never races a CO's retry.</param>
/// <param name="clock">The time the sweep's grace periods are measured against; null: the system clock.</param>
public sealed partial class VolumeManager(
    ZfsClient zfs,
    VolumeOptions options,
    ILogger logger,
    SweepRequests sweeps,
    IVolumeLocks locks,
    TimeProvider? clock = null
)
{
    /// <summary>Everything read about a volume's dataset, in one zfs get.</summary>
    private static readonly string[] VolumeProperties =
    [
        Markers.CsiName,
        Markers.ParametersDigest,
        Markers.State,
        Markers.Source,
        Markers.Mutable,
        Markers.View,
        "refquota",
        "quota",
        "refreservation",
        "reservation",
        "mountpoint",
        "mounted",
    ];

    private readonly ILogger _log = logger.ForContext<VolumeManager>();

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public DatasetName Parent { get; } = options.Parent;

    /// <summary>Asks the background sweep to run soon (after a delete that may have freed something).</summary>
    public void RequestSweep() => sweeps.Request();

    /// <summary>The dataset of a volume id, or null when the id cannot be one of ours.</summary>
    public VolumeId? ParseId(string id) => VolumeId.TryParse(id, Parent);

    /// <summary>A ready volume of ours, or NOT_FOUND.</summary>
    public async Task<Volume> GetAsync(string id, CancellationToken ct) =>
        ToVolume((await ReadyAsync(id, () => NotFound(id), ct).ConfigureAwait(false)).Props);

    /// <summary>
    /// The id and properties of a ready volume of ours, or <paramref name="notFound"/>: a malformed
    /// or foreign id, a dataset that is missing, half-made, deleted or not ours. A missing dataset
    /// on a missing parent (an exported pool) is UNAVAILABLE instead (<see cref="EnsureParentAsync"/>).
    /// </summary>
    private async Task<(VolumeId Id, DatasetProperties Props)> ReadyAsync(
        string id,
        Func<Exception> notFound,
        CancellationToken ct
    )
    {
        var volumeId = ParseId(id) ?? throw notFound();
        var props = await zfs.TryGetAsync(volumeId.Dataset, VolumeProperties, ct).ConfigureAwait(false);
        if (props is null)
        {
            await EnsureParentAsync(ct).ConfigureAwait(false);
        }
        return props is not null && IsReady(props) ? (volumeId, props) : throw notFound();
    }

    /// <summary>
    /// Fails with UNAVAILABLE when the parent dataset is not there. A volume that "does not exist"
    /// on an exported pool must never be reported gone: DeleteVolume would then answer OK for data
    /// that still exists, and the CO would forget it.
    /// </summary>
    internal async Task EnsureParentAsync(CancellationToken ct)
    {
        try
        {
            if (await zfs.TryGetAsync(Parent, ["name"], ct).ConfigureAwait(false) is null)
            {
                throw new PoolUnavailableException(
                    $"parent dataset {Parent} does not exist: is pool {Parent.Pool} imported? (zpool import {Parent.Pool})"
                );
            }
        }
        catch (ZfsPoolUnavailableException e)
        {
            throw new PoolUnavailableException($"pool {Parent.Pool} is not available: {e.StandardError.Trim()}");
        }
    }

    /// <summary>Ours: carries our name marker as a local property (never an inherited or foreign one).</summary>
    internal static bool IsOurs(DatasetProperties props) => props.LocalValue(Markers.CsiName) is not null;

    internal static bool IsReady(DatasetProperties props) =>
        IsOurs(props) && props.LocalValue(Markers.State) == Markers.StateReady;

    /// <summary>
    /// The capacity is whichever quota the driver set: refquota, or quota for quotaType=quota. A quota
    /// released with <c>none</c> (a quotaType change) reads 0 with source local on both backends, so
    /// 0 counts as unset.
    /// </summary>
    internal static long CapacityOf(DatasetProperties props) =>
        LocalBytes(props, "refquota") ?? LocalBytes(props, "quota") ?? 0;

    /// <summary>A size the dataset sets itself, or null when it is not set locally or is 0 (<c>none</c>).</summary>
    private static long? LocalBytes(DatasetProperties props, string property) =>
        props.LocalValue(property) is { } value && ZfsParser.ParseBytes(value) is { } bytes and > 0 ? bytes : null;

    private static Volume ToVolume(DatasetProperties props) =>
        new(
            new VolumeId(DatasetName.Parse(props.Name)),
            CapacityOf(props),
            props.Value("mountpoint"),
            props.Value("mounted") == "yes"
        )
        {
            Source = ContentSource.FromMarker(props.LocalValue(Markers.Source)),
            IsView = IsView(props),
        };

    internal static bool IsView(DatasetProperties props) => props.LocalValue(Markers.View) == Markers.ViewOn;

    private static NotFoundException NotFound(string id) => new($"volume '{Printable.Of(id)}' does not exist");
}
