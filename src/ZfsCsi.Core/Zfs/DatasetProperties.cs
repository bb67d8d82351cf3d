namespace ZfsCsi.Core.Zfs;

/// <summary>The properties read for one dataset, by property name.</summary>
public sealed record DatasetProperties(string Name, IReadOnlyDictionary<string, ZfsProperty> Properties)
{
    public string? Value(string property) => Properties.TryGetValue(property, out var p) ? p.Value : null;

    /// <summary>The value only when set on this dataset itself: markers must never be inherited ones.</summary>
    public string? LocalValue(string property) =>
        Properties.TryGetValue(property, out var p) && p.IsLocal ? p.Value : null;

    public long? Bytes(string property) => Value(property) is { } v ? ZfsParser.ParseBytes(v) : null;

    public bool IsSnapshot => Name.Contains('@', StringComparison.Ordinal);
}
