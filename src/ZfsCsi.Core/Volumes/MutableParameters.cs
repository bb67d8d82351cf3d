using System.Buffers.Text;
using System.Globalization;
using System.Text;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// A volume's mutable parameters (CSI <c>mutable_parameters</c>: a Kubernetes VolumeAttributesClass),
/// given to CreateVolume or ControllerModifyVolume. The keys and values are those of the StorageClass
/// (<see cref="VolumeParameters"/>), checked by the same rules, minus what ZFS fixes when a dataset is
/// made. Only the keys given are held: the CSI spec forbids changing a volume by the absence of a key.
/// </summary>
/// <remarks>
/// Canonical form: one key per ZFS property (<c>property.compression</c> is <c>compression</c>), a root
/// mode as four octal digits, sorted by key. Two sets are equal when their canonical texts are.
/// </remarks>
public sealed class MutableParameters
{
    /// <summary>
    /// ZFS properties only <c>zfs create</c> can set (zfsprops(7): "can only be set when the dataset
    /// is created"; zfs-fuse answers "'casesensitivity' is readonly" to a later set), and why.
    /// </summary>
    private static readonly Dictionary<string, string> CreateOnly = new(StringComparer.Ordinal)
    {
        ["casesensitivity"] = "ZFS fixes it when a dataset is made",
        ["normalization"] = "ZFS fixes it when a dataset is made",
        ["utf8only"] = "ZFS fixes it when a dataset is made",
        ["encryption"] =
            "ZFS fixes a dataset's encryption when it is made: choose it with the StorageClass's encryption parameter",
        ["keyformat"] = "ZFS fixes it with the dataset's encryption when the dataset is made",
        ["pbkdf2iters"] = "ZFS fixes it with the dataset's encryption when the dataset is made",
        ["keylocation"] =
            "zfs-csi sets it to the volume's key file when it makes an encrypted volume (README, \"Encryption\")",
    };

    private static readonly string[] KnownKeys =
    [
        ParameterKeys.QuotaType,
        ParameterKeys.Provisioning,
        ParameterKeys.Compression,
        ParameterKeys.RecordSize,
        ParameterKeys.Atime,
        ParameterKeys.RootMode,
        ParameterKeys.RootUid,
        ParameterKeys.RootGid,
    ];

    private readonly SortedDictionary<string, string> _values;

    private MutableParameters(SortedDictionary<string, string> values)
    {
        _values = values;
        var zfs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            switch (key)
            {
                case ParameterKeys.QuotaType:
                    QuotaType = value == "quota" ? Volumes.QuotaType.Quota : Volumes.QuotaType.RefQuota;
                    break;
                case ParameterKeys.Provisioning:
                    Thick = value == "thick";
                    break;
                case ParameterKeys.RootMode:
                    RootMode = (UnixFileMode)Convert.ToInt32(value, 8);
                    break;
                case ParameterKeys.RootUid:
                    RootUid = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case ParameterKeys.RootGid:
                    RootGid = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    zfs[ZfsPropertyOf(key)] = value;
                    break;
            }
        }
        ZfsProperties = zfs;
    }

    public static MutableParameters None { get; } = new(new SortedDictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Canonical key → value, sorted.</summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    public bool IsEmpty => _values.Count == 0;

    public QuotaType? QuotaType { get; }

    public bool? Thick { get; }

    /// <summary>ZFS property name → value (compression, recordsize, atime and every <c>property.&lt;name&gt;</c>).</summary>
    public IReadOnlyDictionary<string, string> ZfsProperties { get; }

    public UnixFileMode? RootMode { get; }

    public int? RootUid { get; }

    public int? RootGid { get; }

    /// <summary>The key a parameter is held under: <c>property.compression</c>, <c>property.recordsize</c> and <c>property.atime</c> are their short keys.</summary>
    public static string CanonicalKey(string key) =>
        key.StartsWith(ParameterKeys.PropertyPrefix, StringComparison.Ordinal)
            ? key[ParameterKeys.PropertyPrefix.Length..] switch
            {
                ParameterKeys.Compression => ParameterKeys.Compression,
                ParameterKeys.RecordSize => ParameterKeys.RecordSize,
                ParameterKeys.Atime => ParameterKeys.Atime,
                _ => key,
            }
            : key;

    private static string ZfsPropertyOf(string canonicalKey) =>
        canonicalKey.StartsWith(ParameterKeys.PropertyPrefix, StringComparison.Ordinal)
            ? canonicalKey[ParameterKeys.PropertyPrefix.Length..]
            : canonicalKey;

    /// <summary>
    /// Parses and checks mutable parameters: every key and value by the StorageClass rules, and what
    /// ZFS fixes at creation refused with INVALID_ARGUMENT. Pure: nothing is looked up.
    /// </summary>
    public static MutableParameters Parse(IReadOnlyDictionary<string, string> parameters)
    {
        var total = parameters.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + Encoding.UTF8.GetByteCount(p.Value));
        if (total > VolumeParameters.MaxTotalBytes)
        {
            throw new InvalidInputException(
                $"mutable_parameters take {total} bytes; the CSI spec allows at most {VolumeParameters.MaxTotalBytes} (Size Limits)"
            );
        }
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (key.StartsWith(ParameterKeys.KubernetesPrefix, StringComparison.Ordinal))
            {
                continue;
            }
            var isProperty = key.StartsWith(ParameterKeys.PropertyPrefix, StringComparison.Ordinal);
            if (!isProperty && !KnownKeys.Contains(key, StringComparer.Ordinal))
            {
                throw new InvalidInputException(
                    $"unknown mutable parameter '{Printable.Of(key, 80)}'; a VolumeAttributesClass may set {string.Join(", ", KnownKeys.Take(5))}, "
                        + $"{ParameterKeys.PropertyPrefix}<zfs property> (and, when a volume is made, {ParameterKeys.RootMode}, {ParameterKeys.RootUid}, {ParameterKeys.RootGid})"
                );
            }
            if (isProperty && CreateOnly.TryGetValue(key[ParameterKeys.PropertyPrefix.Length..], out var why))
            {
                throw new InvalidInputException(
                    $"mutable parameter '{Printable.Of(key, 80)}' cannot change on a volume: {why}. Put it in the StorageClass parameters instead of the VolumeAttributesClass"
                );
            }
            // The StorageClass rules, one key at a time: the same values, the same messages.
            var parsed = VolumeParameters.Parse(new Dictionary<string, string> { [key] = value });
            var canonical = CanonicalKey(key);
            var canonicalValue = key switch
            {
                ParameterKeys.RootMode => Octal(parsed.RootMode),
                ParameterKeys.RootUid => parsed.RootUid!.Value.ToString(CultureInfo.InvariantCulture),
                ParameterKeys.RootGid => parsed.RootGid!.Value.ToString(CultureInfo.InvariantCulture),
                _ => value,
            };
            if (!values.TryAdd(canonical, canonicalValue))
            {
                throw new InvalidInputException(
                    $"mutable parameter {key}: ZFS property '{ZfsPropertyOf(canonical)}' is already set by another mutable parameter; give it once"
                );
            }
        }
        return new MutableParameters(values);
    }

    /// <summary>
    /// What a new volume gets: the StorageClass's parameters with these on top. A key in both takes
    /// this value: CSI spec, CreateVolumeRequest.mutable_parameters, "the plugin MUST treat these as if
    /// they take precedence over the parameters field". The digest stays the StorageClass's.
    /// </summary>
    public VolumeParameters AppliedTo(VolumeParameters parameters)
    {
        if (IsEmpty)
        {
            return parameters;
        }
        var properties = new SortedDictionary<string, string>(
            parameters.ZfsProperties.ToDictionary(),
            StringComparer.Ordinal
        );
        foreach (var (name, value) in ZfsProperties)
        {
            properties[name] = value;
        }
        return parameters with
        {
            QuotaType = QuotaType ?? parameters.QuotaType,
            Thick = Thick ?? parameters.Thick,
            ZfsProperties = properties,
            RootMode = RootMode ?? parameters.RootMode,
            RootUid = RootUid ?? parameters.RootUid,
            RootGid = RootGid ?? parameters.RootGid,
        };
    }

    /// <summary><paramref name="recorded"/> with these values on top: what a volume has after a modify (keys not given keep theirs).</summary>
    public MutableParameters Over(MutableParameters recorded)
    {
        var values = new SortedDictionary<string, string>(recorded._values, StringComparer.Ordinal);
        foreach (var (key, value) in _values)
        {
            values[key] = value;
        }
        return new MutableParameters(values);
    }

    /// <summary>The marker's value (<see cref="Markers.Mutable"/>): canonical lines, base64url.</summary>
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(CanonicalText));

    /// <summary>The canonical text, <c>key=value</c> lines in key order.</summary>
    public string CanonicalText => string.Join('\n', _values.Select(p => $"{p.Key}={p.Value}"));

    /// <summary>The set a marker holds; <see cref="None"/> for no marker; null when the value is not one the driver wrote.</summary>
    public static MutableParameters? Decode(string? marker)
    {
        if (marker is null)
        {
            return None;
        }
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(marker.AsSpan()));
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    return null;
                }
                values[line[..eq]] = line[(eq + 1)..];
            }
            return Parse(values);
        }
        catch (Exception e) when (e is FormatException or InvalidInputException)
        {
            return null;
        }
    }

    public override string ToString() =>
        IsEmpty ? "(none)" : string.Join(", ", _values.Select(p => $"{p.Key}={p.Value}"));

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
