namespace ZfsCsi.Core.Volumes;

/// <summary>What a new volume's content comes from (CSI spec, VolumeContentSource).</summary>
public enum ContentSourceKind
{
    Snapshot,
    Volume,
}

/// <summary>A snapshot or volume id a volume was made from; stored on the volume as the <see cref="Markers.Source"/> marker.</summary>
public sealed record ContentSource(ContentSourceKind Kind, string Id)
{
    public string Marker => $"{(Kind == ContentSourceKind.Snapshot ? "snapshot" : "volume")}:{Id}";

    public static ContentSource? FromMarker(string? value) =>
        value switch
        {
            null => null,
            _ when value.StartsWith("snapshot:", StringComparison.Ordinal) => new(
                ContentSourceKind.Snapshot,
                value["snapshot:".Length..]
            ),
            _ when value.StartsWith("volume:", StringComparison.Ordinal) => new(
                ContentSourceKind.Volume,
                value["volume:".Length..]
            ),
            _ => null,
        };
}
