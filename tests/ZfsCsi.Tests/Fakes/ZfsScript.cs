using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Fakes;

/// <summary>Builders of argv and of zfs output in the exact form zfs-fuse prints (see <see cref="ZfsFuseOutput"/>).</summary>
public static class ZfsScript
{
    public const string Columns = "name,property,value,source";

    /// <summary>The properties VolumeManager reads about a volume, in its order.</summary>
    public const string VolumeProperties =
        "zfs-csi:name,zfs-csi:parameters,zfs-csi:state,zfs-csi:source,zfs-csi:mutable,zfs-csi:view,refquota,quota,refreservation,reservation,mountpoint,mounted";

    public static string[] GetVolume(string dataset) => ["get", "-H", "-p", "-o", Columns, VolumeProperties, dataset];

    /// <summary>The inventory a delete and the sweep read: one recursive get (volumes and their snapshots).</summary>
    public static string[] GetInventory(string dataset) =>
        ["get", "-r", "-H", "-p", "-o", Columns, string.Join(',', Inventory.Properties), dataset];

    public static string[] GetName(string dataset) => ["get", "-H", "-p", "-o", Columns, "name", dataset];

    public static string[] GetCapacity(string parent = "data/k8s", string pool = "data") =>
        ["get", "-H", "-p", "-o", Columns, "used,available", parent, pool];

    public static string[] GetChildren(string parent = "data/k8s") =>
        ["get", "-H", "-p", "-d", "1", "-o", Columns, VolumeProperties, parent];

    /// <summary>Rows of a volume dataset as zfs-fuse prints them; null marker values print as "-" with source "-".</summary>
    public static string VolumeRows(
        string dataset,
        string? csiName,
        string? digest = null,
        string? state = Markers.StateReady,
        long refquota = 0,
        long quota = 0,
        long refreservation = 0,
        long reservation = 0,
        string mountpoint = "/tmp/none",
        bool mounted = true,
        string markerSource = "local"
    )
    {
        string Marker(string property, string? value) =>
            value is null ? Row(dataset, property, "-", "-") : Row(dataset, property, value, markerSource);
        string Size(string property, long value) =>
            Row(
                dataset,
                property,
                value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                value == 0 ? "default" : "local"
            );
        return Marker(Markers.CsiName, csiName is null ? null : Markers.EncodeName(csiName))
            + Marker(Markers.ParametersDigest, csiName is null ? null : digest ?? VolumeParameters.Default.Digest)
            + Marker(Markers.State, csiName is null ? null : state)
            + Size("refquota", refquota)
            + Size("quota", quota)
            + Size("refreservation", refreservation)
            + Size("reservation", reservation)
            + Row(dataset, "mountpoint", mountpoint, "inherited from data")
            + Row(dataset, "mounted", mounted ? "yes" : "no", "-");
    }

    /// <summary>A pool of <paramref name="poolBytes"/> with the parent able to take <paramref name="availableBytes"/> more.</summary>
    public static string CapacityRows(
        long poolBytes = 1000L * CapacityRange.GiB,
        long availableBytes = 900L * CapacityRange.GiB
    ) =>
        Row(
            "data",
            "used",
            (poolBytes - availableBytes).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-"
        )
        + Row("data", "available", availableBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "-")
        + Row("data/k8s", "used", "360448", "-")
        + Row("data/k8s", "available", availableBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "-");

    public static string Row(string dataset, string property, string value, string source) =>
        $"{dataset}\t{property}\t{value}\t{source}\n";

    public static string DoesNotExist(string dataset) => $"cannot open '{dataset}': dataset does not exist\n";

    public static DatasetName Name(string value) => DatasetName.Parse(value);
}
