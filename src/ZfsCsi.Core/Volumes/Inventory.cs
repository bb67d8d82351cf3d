using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// Reads one recursive <c>zfs get</c> of the parent (volumes and their snapshots) and tells what
/// each row is. Markers count only when set locally: a snapshot shows its dataset's user properties
/// as inherited, and snapshots of other tools (sanoid, zfs-auto-snapshot, a person) carry none of
/// their own, so they are never taken for ours.
/// </summary>
public static class Inventory
{
    /// <summary>Everything a listing, a name lookup or the sweep needs, in one process.</summary>
    public static readonly string[] Properties =
    [
        Markers.CsiName,
        Markers.ParametersDigest,
        Markers.State,
        Markers.Capacity,
        Markers.Group,
        Markers.Source,
        Markers.SnapshotId,
        "refquota",
        "quota",
        "refreservation",
        "reservation",
        "mountpoint",
        "mounted",
        "creation",
        "defer_destroy",
    ];

    public static bool IsDeferred(DatasetProperties snapshot) => snapshot.Value("defer_destroy") == "on";

    /// <summary>Made by the driver: a CSI snapshot, a group member, or an internal one.</summary>
    public static bool IsOurSnapshot(DatasetProperties snapshot) =>
        snapshot.IsSnapshot
        && (
            snapshot.LocalValue(Markers.CsiName) is not null
            || snapshot.LocalValue(Markers.Group) is not null
            || snapshot.LocalValue(Markers.State) == Markers.StateHidden
        );

    /// <summary>A CSI snapshot or group member that has not been deleted: what ListSnapshots shows and what keeps a deleted volume.</summary>
    public static bool IsLiveCsiSnapshot(DatasetProperties snapshot) =>
        IsOurSnapshot(snapshot)
        && snapshot.LocalValue(Markers.State) != Markers.StateHidden
        && !IsDeferred(snapshot)
        && SnapshotNaming.IsListable(LeafOf(snapshot.Name));

    public static bool IsHidden(DatasetProperties snapshot) =>
        snapshot.IsSnapshot && snapshot.LocalValue(Markers.State) == Markers.StateHidden;

    public static string DatasetOf(string snapshotName) =>
        snapshotName[..snapshotName.IndexOf('@', StringComparison.Ordinal)];

    public static string LeafOf(string snapshotName) =>
        snapshotName[(snapshotName.IndexOf('@', StringComparison.Ordinal) + 1)..];

    /// <summary>Snapshot rows by the dataset they belong to.</summary>
    public static ILookup<string, DatasetProperties> SnapshotsByDataset(IEnumerable<DatasetProperties> rows) =>
        rows.Where(r => r.IsSnapshot).ToLookup(r => DatasetOf(r.Name), StringComparer.Ordinal);
}
