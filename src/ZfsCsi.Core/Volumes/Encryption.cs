using System.Text;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Volumes;

/// <summary>ZFS's <c>keyformat</c> (zfsprops(7), "keyformat=raw|hex|passphrase").</summary>
public enum KeyFormat
{
    /// <summary>8 to 512 bytes of text, stretched by PBKDF2 (ZFS's default for keylocation=prompt too).</summary>
    Passphrase,

    /// <summary>64 hexadecimal digits: a 32-byte key.</summary>
    Hex,

    /// <summary>32 bytes. A CSI secret is a string (csi.proto: map&lt;string, string&gt;), so the secret holds them base64-encoded.</summary>
    Raw,
}

/// <summary>
/// A StorageClass's native encryption (<see cref="ParameterKeys.Encryption"/>, <see cref="ParameterKeys.KeyFormat"/>):
/// the cipher and how the key is given. The key itself is never part of this (it comes from
/// CreateVolume's <c>secrets</c>, <see cref="EncryptionKey"/>).
/// </summary>
public sealed record EncryptionParameters(string Cipher, KeyFormat Format)
{
    /// <summary>zfsprops(7), "encryption": <c>on</c> is the release's default cipher (aes-256-gcm since 0.8.4).</summary>
    public static readonly IReadOnlySet<string> Ciphers = new HashSet<string>(StringComparer.Ordinal)
    {
        "on",
        "aes-128-ccm",
        "aes-192-ccm",
        "aes-256-ccm",
        "aes-128-gcm",
        "aes-192-gcm",
        "aes-256-gcm",
    };

    /// <summary>The keyformat property's value.</summary>
    public string FormatName =>
        Format switch
        {
            KeyFormat.Hex => "hex",
            KeyFormat.Raw => "raw",
            _ => "passphrase",
        };

    public static KeyFormat? ParseFormat(string value) =>
        value switch
        {
            "passphrase" => KeyFormat.Passphrase,
            "hex" => KeyFormat.Hex,
            "raw" => KeyFormat.Raw,
            _ => null,
        };
}

/// <summary>
/// The key of a new encrypted volume, read from CreateVolume's <c>secrets</c> (the Secret the
/// StorageClass names with csi.storage.k8s.io/provisioner-secret-name and -namespace) and checked
/// against ZFS's own limits before anything is written or made, so a key ZFS would refuse is
/// INVALID_ARGUMENT with nothing made. No message here ever contains the key or any part of it.
/// </summary>
public sealed class EncryptionKey
{
    /// <summary>The Secret's data key that holds the volume key.</summary>
    public const string SecretKey = "encryptionKey";

    /// <summary>OpenZFS include/sys/dsl_crypt.h: MIN_PASSPHRASE_LEN, MAX_PASSPHRASE_LEN; WRAPPING_KEY_LEN.</summary>
    public const int MinPassphraseBytes = 8;

    public const int MaxPassphraseBytes = 512;
    public const int KeyBytes = 32;

    private readonly byte[] _material;

    private EncryptionKey(byte[] material) => _material = material;

    /// <summary>What the key file holds, exactly as ZFS reads it for the key format.</summary>
    public ReadOnlySpan<byte> Material => _material;

    /// <summary>Never the key: a log line or an exception that formats this object shows nothing secret.</summary>
    public override string ToString() => "[encryption key]";

    /// <summary>The key for <paramref name="format"/> from <paramref name="secrets"/>; INVALID_ARGUMENT when missing or malformed.</summary>
    public static EncryptionKey FromSecrets(IReadOnlyDictionary<string, string> secrets, KeyFormat format)
    {
        // CSI spec, CreateVolumeRequest.secrets: "Secrets required by plugin to complete volume
        // creation request"; a request without what the plugin needs is malformed for it (the
        // spec's general INVALID_ARGUMENT: "one or more fields in the request is invalid").
        if (!secrets.TryGetValue(SecretKey, out var value) || value.Length == 0)
        {
            throw new InvalidInputException(
                $"the StorageClass asks for encryption but CreateVolume's secrets have no '{SecretKey}': give the class "
                    + "csi.storage.k8s.io/provisioner-secret-name and csi.storage.k8s.io/provisioner-secret-namespace naming a Secret "
                    + $"with data key '{SecretKey}' (nothing was made)"
            );
        }
        return new EncryptionKey(
            format switch
            {
                KeyFormat.Passphrase => Passphrase(value),
                KeyFormat.Hex => Hex(value),
                _ => Raw(value),
            }
        );
    }

    private static byte[] Passphrase(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length is < MinPassphraseBytes or > MaxPassphraseBytes)
        {
            throw new InvalidInputException(
                $"secret '{SecretKey}' holds {bytes.Length} bytes; a passphrase (keyformat passphrase) needs {MinPassphraseBytes} to {MaxPassphraseBytes} (nothing was made)"
            );
        }
        if (bytes.Contains((byte)'\n'))
        {
            // zfs reads a passphrase file up to its first newline: the rest would silently not count.
            throw new InvalidInputException(
                $"secret '{SecretKey}' holds a line break; a passphrase is one line (nothing was made)"
            );
        }
        return bytes;
    }

    private static byte[] Hex(string value)
    {
        var text = value.TrimEnd('\n');
        if (text.Length != 2 * KeyBytes || !text.All(char.IsAsciiHexDigit))
        {
            throw new InvalidInputException(
                $"secret '{SecretKey}' is not {2 * KeyBytes} hexadecimal digits, as keyformat hex needs ({text.Length} characters given; nothing was made)"
            );
        }
        return Encoding.ASCII.GetBytes(text);
    }

    private static byte[] Raw(string value)
    {
        var bytes = new byte[KeyBytes + 3];
        if (!Convert.TryFromBase64String(value.Trim(), bytes, out var n) || n != KeyBytes)
        {
            throw new InvalidInputException(
                $"secret '{SecretKey}' is not the base64 of exactly {KeyBytes} bytes, as keyformat raw needs (a CSI secret is text; nothing was made)"
            );
        }
        return bytes[..KeyBytes];
    }
}
