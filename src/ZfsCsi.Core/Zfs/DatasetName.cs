using System.Diagnostics.CodeAnalysis;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Zfs;

/// <summary>
/// A checked ZFS filesystem name such as <c>data/k8s/pvc-1234</c>. Only values that pass
/// <see cref="TryParse"/> exist, so one can be handed to zfs as an argument safely: no component
/// is empty, <c>.</c> or <c>..</c>, starts with '-', or holds a character outside ZFS's set.
/// </summary>
public readonly record struct DatasetName
{
    /// <summary>ZFS's limit on a full name, snapshot part included.</summary>
    public const int MaxLength = 255;

    private DatasetName(string value) => Value = value;

    public string Value { get; }

    public string Pool => Value.Split('/')[0];

    /// <summary>The last component: the volume's own name under its parent.</summary>
    public string Leaf => Value[(Value.LastIndexOf('/') + 1)..];

    public DatasetName? Parent => Value.LastIndexOf('/') is var i and > 0 ? new DatasetName(Value[..i]) : null;

    /// <summary>A direct child of this dataset. <paramref name="leaf"/> must itself be a valid component.</summary>
    public DatasetName Child(string leaf) =>
        IsValidComponent(leaf, out var why) && TryParse($"{Value}/{leaf}", out var child, out why)
            ? child
            : throw new ArgumentException(why, nameof(leaf));

    public bool IsDirectChildOf(DatasetName parent) =>
        Value.Length > parent.Value.Length + 1
        && Value.StartsWith(parent.Value + "/", StringComparison.Ordinal)
        && Value.IndexOf('/', parent.Value.Length + 1) < 0;

    public static DatasetName Parse(string value) =>
        TryParse(value, out var name, out var why) ? name : throw new FormatException(why);

    public static bool TryParse(string? value, out DatasetName name, [NotNullWhen(false)] out string? why)
    {
        name = default;
        if (string.IsNullOrEmpty(value))
        {
            why = "a dataset name is empty";
            return false;
        }
        if (value.Length > MaxLength)
        {
            why = $"'{Printable.Of(value)}' is longer than ZFS's {MaxLength} bytes";
            return false;
        }
        foreach (var component in value.Split('/'))
        {
            if (!IsValidComponent(component, out why))
            {
                why = $"'{Printable.Of(value)}' is not a ZFS filesystem name: {why}";
                return false;
            }
        }
        name = new DatasetName(value);
        why = null;
        return true;
    }

    /// <summary>One path component: ZFS's characters, not empty, not '.' or '..', no leading '-'.</summary>
    public static bool IsValidComponent(string component, [NotNullWhen(false)] out string? why)
    {
        why = component switch
        {
            "" => "it has an empty component",
            "." or ".." => $"a component is '{component}'",
            _ when component[0] == '-' => "a component starts with '-'",
            // As char? so that a NUL in the name is reported, not mistaken for "no bad character".
            _ when component.Where(c => !IsZfsNameChar(c)).Select(c => (char?)c).FirstOrDefault() is { } bad =>
                $"character '{Printable.Of(bad.ToString())}' is not allowed (letters, digits, '_', '-', '.', ':' only)",
            _ => null,
        };
        return why is null;
    }

    private static bool IsZfsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':';

    public override string ToString() => Value;
}
