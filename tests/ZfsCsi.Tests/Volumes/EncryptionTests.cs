using System.Text;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Volumes;

/// <summary>The encryption parameters, the key from CreateVolume's secrets, and the key files at rest.</summary>
public sealed class EncryptionTests : IDisposable
{
    private const string Passphrase = "correct horse battery staple";
    private readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("zfs-csi-keys-");

    public void Dispose() => _keys.Delete(recursive: true);

    private static Dictionary<string, string> Secret(string value) => new() { [EncryptionKey.SecretKey] = value };

    [Fact]
    public void Encryption_on_takes_the_releases_default_cipher_with_a_passphrase_by_default()
    {
        var parameters = VolumeParameters.Parse(new Dictionary<string, string> { ["encryption"] = "on" });

        Assert.Equal(new EncryptionParameters("on", KeyFormat.Passphrase), parameters.Encryption);
    }

    [Fact]
    public void Encryption_off_is_a_plain_volume_with_the_digest_of_a_class_that_never_named_encryption()
    {
        var off = VolumeParameters.Parse(new Dictionary<string, string> { ["encryption"] = "off" });

        Assert.Null(off.Encryption);
        Assert.Equal(VolumeParameters.Default.Digest, off.Digest);
    }

    [Fact]
    public void An_encrypted_class_has_another_digest_than_a_plain_one_so_a_retry_cannot_mix_them()
    {
        var encrypted = VolumeParameters.Parse(new Dictionary<string, string> { ["encryption"] = "aes-128-ccm" });
        var hex = VolumeParameters.Parse(
            new Dictionary<string, string> { ["encryption"] = "aes-128-ccm", ["keyFormat"] = "hex" }
        );

        Assert.NotEqual(VolumeParameters.Default.Digest, encrypted.Digest);
        Assert.NotEqual(encrypted.Digest, hex.Digest);
    }

    [Theory]
    [InlineData("encryption", "aes-999-gcm", "aes-256-gcm")]
    [InlineData("encryption", "yes", "off, on")]
    [InlineData("keyFormat", "pem", "'passphrase', 'hex' or 'raw'")]
    public void An_unknown_cipher_or_key_format_is_refused_with_the_choices(string key, string value, string named)
    {
        var parameters = new Dictionary<string, string> { ["encryption"] = "on", [key] = value };

        var e = Assert.Throws<InvalidInputException>(() => VolumeParameters.Parse(parameters));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_format_without_encryption_is_refused_rather_than_silently_ignored()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            VolumeParameters.Parse(new Dictionary<string, string> { ["keyFormat"] = "hex" })
        );

        Assert.Contains("encryption", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_passphrase_secret_is_the_key_files_exact_bytes()
    {
        var key = EncryptionKey.FromSecrets(Secret(Passphrase), KeyFormat.Passphrase);

        Assert.Equal(Encoding.UTF8.GetBytes(Passphrase), key.Material.ToArray());
        Assert.DoesNotContain("horse", key.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("seven77")]
    [InlineData("two\nlines here")]
    public void A_passphrase_zfs_would_refuse_or_cut_short_is_refused_without_quoting_it(string value)
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            EncryptionKey.FromSecrets(Secret(value), KeyFormat.Passphrase)
        );

        Assert.DoesNotContain(value, e.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was made", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_passphrase_longer_than_zfs_takes_is_refused()
    {
        Assert.Throws<InvalidInputException>(() =>
            EncryptionKey.FromSecrets(Secret(new string('x', 513)), KeyFormat.Passphrase)
        );
    }

    [Fact]
    public void No_secret_names_the_storage_class_parameters_that_would_give_one()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            EncryptionKey.FromSecrets(new Dictionary<string, string>(), KeyFormat.Passphrase)
        );

        Assert.Contains("csi.storage.k8s.io/provisioner-secret-name", e.Message, StringComparison.Ordinal);
        Assert.Contains(EncryptionKey.SecretKey, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hex_key_is_64_hex_digits_and_a_trailing_newline_of_a_secret_file_does_not_count()
    {
        var digits = new string('a', 32) + new string('7', 32);

        var key = EncryptionKey.FromSecrets(Secret(digits + "\n"), KeyFormat.Hex);

        Assert.Equal(Encoding.ASCII.GetBytes(digits), key.Material.ToArray());
        Assert.Throws<InvalidInputException>(() => EncryptionKey.FromSecrets(Secret(digits[1..]), KeyFormat.Hex));
        Assert.Throws<InvalidInputException>(() => EncryptionKey.FromSecrets(Secret(digits[1..] + "g"), KeyFormat.Hex));
    }

    [Fact]
    public void A_raw_key_is_the_base64_of_exactly_32_bytes()
    {
        var bytes = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var key = EncryptionKey.FromSecrets(Secret(Convert.ToBase64String(bytes)), KeyFormat.Raw);

        Assert.Equal(bytes, key.Material.ToArray());
        Assert.Throws<InvalidInputException>(() =>
            EncryptionKey.FromSecrets(Secret(Convert.ToBase64String(bytes[..31])), KeyFormat.Raw)
        );
        Assert.Throws<InvalidInputException>(() => EncryptionKey.FromSecrets(Secret("not base64!"), KeyFormat.Raw));
    }

    [Fact]
    public void A_key_file_is_written_root_only_under_its_parents_directory_and_named_by_the_volume()
    {
        var store = new KeyStore(Path.Combine(_keys.FullName, "keys"));
        var dataset = DatasetName.Parse("data/k8s/pvc-1");

        var path = store.Write(dataset, EncryptionKey.FromSecrets(Secret(Passphrase), KeyFormat.Passphrase));

        Assert.StartsWith(Path.Combine(store.Directory, "data/k8s", "pvc-1."), path, StringComparison.Ordinal);
        Assert.EndsWith(KeyStore.Suffix, path, StringComparison.Ordinal);
        Assert.Equal(Passphrase, File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        foreach (
            var dir in new[] { store.Directory, Path.Combine(store.Directory, "data"), Path.GetDirectoryName(path)! }
        )
        {
            Assert.Equal(
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                File.GetUnixFileMode(dir)
            );
        }
        Assert.True(store.Holds(path));
        Assert.Equal(path, KeyStore.PathOf(KeyStore.KeyLocation(path)));
    }

    [Fact]
    public void Two_key_files_of_one_volume_name_never_collide_and_a_listing_by_leaf_shows_only_that_volumes()
    {
        var store = new KeyStore(_keys.FullName);
        var key = EncryptionKey.FromSecrets(Secret(Passphrase), KeyFormat.Passphrase);

        var first = store.Write(DatasetName.Parse("data/k8s/pvc-1"), key);
        var second = store.Write(DatasetName.Parse("data/k8s/pvc-1"), key);
        var other = store.Write(DatasetName.Parse("data/k8s/pvc-10"), key);
        // A temporary of a write a crash interrupted is never listed.
        File.WriteAllText(Path.Combine(_keys.FullName, "data/k8s", ".pvc-1.0000.key.tmp"), "half");

        Assert.NotEqual(first, second);
        Assert.Equal(
            new[] { first, second }.Order(StringComparer.Ordinal),
            store.List(DatasetName.Parse("data/k8s"), "pvc-1").Select(f => f.Path)
        );
        Assert.Equal(3, store.List(DatasetName.Parse("data/k8s")).Count);
        Assert.Contains(other, store.List(DatasetName.Parse("data/k8s")).Select(f => f.Path));
    }

    [Fact]
    public void An_empty_or_missing_key_directory_holds_no_keys_and_paths_elsewhere_are_not_its_own()
    {
        var store = new KeyStore(Path.Combine(_keys.FullName, "none"));

        Assert.Empty(store.List(DatasetName.Parse("data/k8s")));
        Assert.False(store.Holds("/etc/shadow"));
        Assert.False(store.Holds(Path.Combine(store.Directory, "../x.key")));
        Assert.Null(KeyStore.PathOf("prompt"));
        Assert.Null(KeyStore.PathOf("none"));
    }
}
