using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Volumes;

/// <summary>How capacity is enforced: which ZFS property holds it.</summary>
public enum QuotaType
{
    /// <summary>refquota: the volume's own data only; snapshots do not eat into it.</summary>
    RefQuota,

    /// <summary>quota: data and snapshots together.</summary>
    Quota,
}

/// <summary>What CreateVolume from a snapshot makes (<see cref="ParameterKeys.View"/>).</summary>
public enum ViewMode
{
    /// <summary>A read-only view when every requested access mode is reader-only, else a clone.</summary>
    Auto,

    /// <summary>Always a view: a request that cannot be one (a writer mode, no snapshot source) is INVALID_ARGUMENT.</summary>
    Always,

    /// <summary>Always a clone, as before views existed.</summary>
    Never,
}

/// <summary>
/// StorageClass parameters, parsed and checked before anything touches ZFS. An unknown key is an
/// error (a typo must not silently give a user something they did not ask for); keys Kubernetes
/// adds itself are accepted and ignored.
/// </summary>
public sealed partial record VolumeParameters(
    QuotaType QuotaType,
    bool Thick,
    IReadOnlyDictionary<string, string> ZfsProperties,
    UnixFileMode RootMode,
    int? RootUid,
    int? RootGid,
    string Digest
)
{
    /// <summary>The StorageClass's <see cref="ParameterKeys.View"/>: whether a restore of a snapshot is a read-only view.</summary>
    public ViewMode View { get; init; } = ViewMode.Auto;

    /// <summary>The StorageClass's native encryption (<see cref="ParameterKeys.Encryption"/>), or null: not encrypted.</summary>
    public EncryptionParameters? Encryption { get; init; }

    public const UnixFileMode DefaultRootMode = (UnixFileMode)0x1FF; // 0777

    /// <summary>CSI spec, "Size Limits": a map&lt;string,string&gt; is at most 4 KiB.</summary>
    public const int MaxTotalBytes = 4096;

    /// <summary>Properties the driver manages itself, or that would break the /data layout or need keys.</summary>
    private static readonly HashSet<string> ReservedProperties = new(StringComparer.Ordinal)
    {
        "mountpoint",
        "canmount",
        "quota",
        "refquota",
        "reservation",
        "refreservation",
        "volsize",
        "volblocksize",
        "zoned",
        "encryption",
        "keyformat",
        "keylocation",
        "pbkdf2iters",
        "origin",
    };

    /// <summary>
    /// Native properties ZFS computes and never lets anyone set (zfsprops(7), "read-only native
    /// properties"): refused here, before anything is made, instead of failing the create.
    /// </summary>
    private static readonly HashSet<string> ReadOnlyProperties = new(StringComparer.Ordinal)
    {
        "available",
        "avail",
        "clones",
        "compressratio",
        "refcompressratio",
        "createtxg",
        "creation",
        "defer_destroy",
        "encryptionroot",
        "filesystem_count",
        "snapshot_count",
        "guid",
        "keystatus",
        "logicalreferenced",
        "logicalused",
        "lrefer",
        "lused",
        "mounted",
        "objsetid",
        "receive_resume_token",
        "redact_snaps",
        "referenced",
        "refer",
        "snapshots_changed",
        "type",
        "used",
        "usedbychildren",
        "usedbydataset",
        "usedbyrefreservation",
        "usedbysnapshots",
        "usedchild",
        "usedds",
        "usedrefreserv",
        "usedsnap",
        "userrefs",
        "written",
        "ratio",
        "refratio",
    };

    /// <summary>
    /// NFS/SMB sharing: pods reach volumes through /data and bind mounts, not through shares, and a
    /// share that fails (no NFS server, zfs-fuse) fails the create after the dataset is made.
    /// </summary>
    private static readonly HashSet<string> SharingProperties = new(StringComparer.Ordinal) { "sharenfs", "sharesmb" };

    public static readonly VolumeParameters Default = Parse(new Dictionary<string, string>());

    public string QuotaProperty => QuotaType == QuotaType.RefQuota ? "refquota" : "quota";

    public string ReservationProperty => QuotaType == QuotaType.RefQuota ? "refreservation" : "reservation";

    public static VolumeParameters Parse(IReadOnlyDictionary<string, string> parameters)
    {
        var total = parameters.Sum(p => Encoding.UTF8.GetByteCount(p.Key) + Encoding.UTF8.GetByteCount(p.Value));
        if (total > MaxTotalBytes)
        {
            throw new InvalidInputException(
                $"parameters take {total} bytes; the CSI spec allows at most {MaxTotalBytes} (Size Limits)"
            );
        }

        var quotaType = QuotaType.RefQuota;
        var thick = false;
        var rootMode = DefaultRootMode;
        int? rootUid = null,
            rootGid = null;
        var view = ViewMode.Auto;
        string? cipher = null;
        KeyFormat? keyFormat = null;
        var properties = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case var _ when key.StartsWith(ParameterKeys.KubernetesPrefix, StringComparison.Ordinal):
                    break;
                case ParameterKeys.QuotaType:
                    quotaType = value switch
                    {
                        "refquota" => QuotaType.RefQuota,
                        "quota" => QuotaType.Quota,
                        _ => throw Invalid(key, value, "'refquota' or 'quota'"),
                    };
                    break;
                case ParameterKeys.Provisioning:
                    thick = value switch
                    {
                        "thin" => false,
                        "thick" => true,
                        _ => throw Invalid(key, value, "'thin' or 'thick'"),
                    };
                    break;
                case ParameterKeys.Compression:
                    SetOnce(
                        properties,
                        key,
                        "compression",
                        CompressionPattern().IsMatch(value)
                            ? value
                            : throw Invalid(
                                key,
                                value,
                                "on, off, lz4, lzjb, zle, gzip, gzip-1..9, zstd, zstd-1..19 or zstd-fast"
                            )
                    );
                    break;
                case ParameterKeys.RecordSize:
                    SetOnce(
                        properties,
                        key,
                        "recordsize",
                        IsRecordSize(value)
                            ? value
                            : throw Invalid(
                                key,
                                value,
                                "a power of two from 512 to 16M, in bytes or with K or M (128K)"
                            )
                    );
                    break;
                case ParameterKeys.Atime:
                    SetOnce(
                        properties,
                        key,
                        "atime",
                        value is "on" or "off" ? value : throw Invalid(key, value, "'on' or 'off'")
                    );
                    break;
                case ParameterKeys.RootMode:
                    rootMode = ModePattern().IsMatch(value)
                        ? (UnixFileMode)Convert.ToInt32(value, 8)
                        : throw Invalid(key, value, "an octal mode such as 0777 or 2775");
                    break;
                case ParameterKeys.View:
                    view = value switch
                    {
                        "auto" => ViewMode.Auto,
                        "always" => ViewMode.Always,
                        "never" => ViewMode.Never,
                        _ => throw Invalid(key, value, "'auto', 'always' or 'never'"),
                    };
                    break;
                case ParameterKeys.Encryption:
                    cipher =
                        value == "off" ? null
                        : EncryptionParameters.Ciphers.Contains(value) ? value
                        : throw Invalid(
                            key,
                            value,
                            "off, on, or one of "
                                + string.Join(", ", EncryptionParameters.Ciphers.Where(c => c != "on"))
                        );
                    break;
                case ParameterKeys.KeyFormat:
                    keyFormat = EncryptionParameters.ParseFormat(value)
                        ?? throw Invalid(
                            key,
                            value,
                            "'passphrase', 'hex' or 'raw' (raw: the secret holds the 32 bytes base64-encoded)"
                        );
                    break;
                case ParameterKeys.RootUid:
                    rootUid = ParseId(key, value);
                    break;
                case ParameterKeys.RootGid:
                    rootGid = ParseId(key, value);
                    break;
                case var _ when key.StartsWith(ParameterKeys.PropertyPrefix, StringComparison.Ordinal):
                    var name = key[ParameterKeys.PropertyPrefix.Length..];
                    SetOnce(properties, key, CheckPropertyName(key, name), CheckPropertyValue(key, value));
                    break;
                default:
                    throw new InvalidInputException(
                        $"unknown parameter '{Printable.Of(key, 80)}'; known: {ParameterKeys.QuotaType}, {ParameterKeys.Provisioning}, {ParameterKeys.Compression}, "
                            + $"{ParameterKeys.RecordSize}, {ParameterKeys.Atime}, {ParameterKeys.RootMode}, {ParameterKeys.RootUid}, {ParameterKeys.RootGid}, {ParameterKeys.View}, {ParameterKeys.Encryption}, {ParameterKeys.KeyFormat}, "
                            + $"{ParameterKeys.PropertyPrefix}<zfs property>, and Kubernetes' own {ParameterKeys.KubernetesPrefix}*"
                    );
            }
        }

        if (keyFormat is not null && cipher is null)
        {
            throw new InvalidInputException(
                $"parameter {ParameterKeys.KeyFormat} is given but {ParameterKeys.Encryption} is not on: set {ParameterKeys.Encryption}: \"on\" (or a cipher), or remove {ParameterKeys.KeyFormat}"
            );
        }
        var encryption = cipher is null ? null : new EncryptionParameters(cipher, keyFormat ?? KeyFormat.Passphrase);
        var canonical = string.Join(
            '\n',
            new[]
            {
                $"quota={quotaType}",
                $"thick={thick}",
                $"mode={Convert.ToString((int)rootMode, 8)}",
                $"uid={rootUid}",
                $"gid={rootGid}",
            }
                .Concat(properties.Select(p => $"{p.Key}={p.Value}"))
                // Only when set: the digests of volumes made before the key existed stay as they were.
                .Concat(view == ViewMode.Auto ? [] : [$"view={view}"])
                // The cipher and the key format, never the key (it is not a parameter, and it is not stored).
                .Concat(
                    encryption is null ? [] : [$"encryption={encryption.Cipher}", $"keyformat={encryption.FormatName}"]
                )
        );
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
        return new VolumeParameters(quotaType, thick, properties, rootMode, rootUid, rootGid, digest)
        {
            View = view,
            Encryption = encryption,
        };
    }

    /// <summary>
    /// <c>compression</c> and <c>property.compression</c> name one ZFS property: given both, which
    /// one wins would depend on map order, so the request is refused instead.
    /// </summary>
    private static void SetOnce(SortedDictionary<string, string> properties, string key, string property, string value)
    {
        if (!properties.TryAdd(property, value))
        {
            throw new InvalidInputException(
                $"parameter {key}: ZFS property '{property}' is already set by another parameter; give it once"
            );
        }
    }

    private static string CheckPropertyName(string key, string name)
    {
        if (!PropertyNamePattern().IsMatch(name))
        {
            throw new InvalidInputException(
                $"parameter '{Printable.Of(key, 80)}' does not name a ZFS property (lower-case letters, digits, '_', '.', ':' and '-')"
            );
        }
        if (ReservedProperties.Contains(name) || name.StartsWith(Markers.Prefix, StringComparison.Ordinal))
        {
            throw new InvalidInputException(
                $"parameter '{Printable.Of(key, 80)}': the driver manages '{name}' itself; use {ParameterKeys.QuotaType} and {ParameterKeys.Provisioning} for capacity"
            );
        }
        if (ReadOnlyProperties.Contains(name))
        {
            throw new InvalidInputException(
                $"parameter '{Printable.Of(key, 80)}': '{name}' is a read-only ZFS property (ZFS computes it); it cannot be set"
            );
        }
        if (SharingProperties.Contains(name))
        {
            throw new InvalidInputException(
                $"parameter '{Printable.Of(key, 80)}': volumes reach pods through /data bind mounts, not NFS/SMB shares; remove '{name}'"
            );
        }
        return name;
    }

    private static string CheckPropertyValue(string key, string value) =>
        PropertyValuePattern().IsMatch(value)
            ? value
            : throw Invalid(key, value, "1 to 1024 characters of letters, digits and _ . : , = + @ / -");

    private static bool IsRecordSize(string value)
    {
        var m = RecordSizePattern().Match(value);
        if (!m.Success)
        {
            return false;
        }
        var n =
            long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            * (
                m.Groups[2].Value.ToUpperInvariant() switch
                {
                    "K" => 1024L,
                    "M" => 1024L * 1024,
                    _ => 1L,
                }
            );
        return n is >= 512 and <= 16L * 1024 * 1024 && (n & (n - 1)) == 0;
    }

    private static int ParseId(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id >= 0
            ? id
            : throw Invalid(key, value, "a numeric id, 0 or more");

    private static InvalidInputException Invalid(string key, string value, string expected) =>
        new($"parameter {key}: '{Printable.Of(value, 80)}' is not valid; expected {expected}");

    [GeneratedRegex("^(on|off|lz4|lzjb|zle|gzip|gzip-[1-9]|zstd|zstd-([1-9]|1[0-9])|zstd-fast(-[0-9]+)?)$")]
    private static partial Regex CompressionPattern();

    [GeneratedRegex("^([0-9]{1,9})([KkMm]?)$")]
    private static partial Regex RecordSizePattern();

    [GeneratedRegex("^0?[0-7]{3,4}$")]
    private static partial Regex ModePattern();

    [GeneratedRegex("^[a-z][a-z0-9_.:-]{0,255}$")]
    private static partial Regex PropertyNamePattern();

    [GeneratedRegex("^[A-Za-z0-9_.:,=+@/-]{1,1024}$")]
    private static partial Regex PropertyValuePattern();
}
