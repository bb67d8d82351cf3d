using System.Diagnostics.CodeAnalysis;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Zfs;

/// <summary>
/// A checked ZFS snapshot name, <c>dataset@leaf</c>. The leaf is a valid ZFS name component (no
/// '/', '@', leading '-'), so the whole can be passed to zfs as one argument safely.
/// </summary>
public readonly record struct SnapshotName
{
    private SnapshotName(DatasetName dataset, string leaf) => (Dataset, Leaf) = (dataset, leaf);

    public DatasetName Dataset { get; }

    public string Leaf { get; }

    public string Value => $"{Dataset.Value}@{Leaf}";

    public static SnapshotName Of(DatasetName dataset, string leaf) =>
        TryCreate(dataset, leaf, out var name, out var why) ? name : throw new ArgumentException(why, nameof(leaf));

    public static bool TryCreate(
        DatasetName dataset,
        string leaf,
        out SnapshotName name,
        [NotNullWhen(false)] out string? why
    )
    {
        name = default;
        if (!DatasetName.IsValidComponent(leaf, out why))
        {
            why = $"snapshot leaf '{Printable.Of(leaf)}': {why}";
            return false;
        }
        if (dataset.Value.Length + 1 + leaf.Length > DatasetName.MaxLength)
        {
            why = $"'{dataset}@{leaf}' is longer than ZFS's {DatasetName.MaxLength} bytes";
            return false;
        }
        name = new SnapshotName(dataset, leaf);
        return true;
    }

    /// <summary>A full <c>dataset@leaf</c> string, checked.</summary>
    public static bool TryParse(string? value, out SnapshotName name)
    {
        name = default;
        if (value is null)
        {
            return false;
        }
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0
            && at == value.LastIndexOf('@')
            && DatasetName.TryParse(value[..at], out var dataset, out _)
            && TryCreate(dataset, value[(at + 1)..], out name, out _);
    }

    public override string ToString() => Value;
}
