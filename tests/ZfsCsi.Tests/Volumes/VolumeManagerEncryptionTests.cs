using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

/// <summary>CreateVolume of an encrypted volume on a fake zfs: the key file, the one create that names it, and what a refusal leaves.</summary>
public sealed class VolumeManagerEncryptionTests : VolumeManagerHarness, IDisposable
{
    private readonly DirectoryInfo _keys = Directory.CreateTempSubdirectory("zfs-csi-unit-keys-");

    private static readonly VolumeParameters EncryptedClass = VolumeParameters.Parse(
        new Dictionary<string, string> { ["encryption"] = "on" }
    );

    private static EncryptionKey Key =>
        EncryptionKey.FromSecrets(
            new Dictionary<string, string> { [EncryptionKey.SecretKey] = "correct horse battery staple" },
            KeyFormat.Passphrase
        );

    private VolumeManager Encrypting =>
        ManagerWith(volumes: new VolumeOptions { ParentDataset = "data/k8s", KeyDirectory = _keys.FullName });

    private string[] KeyFiles => Directory.GetFiles(_keys.FullName, "*", SearchOption.AllDirectories);

    // Re-implemented so that xunit's Dispose removes the key directory too, then the harness's.
    void IDisposable.Dispose()
    {
        _keys.Delete(recursive: true);
        base.Dispose();
    }

    private Task<Volume> CreateAsync() =>
        Encrypting.CreateAsync(Name, CapacityRange.Unspecified, EncryptedClass, MutableParameters.None, Key, Ct);

    [Fact]
    public async Task The_key_is_written_to_a_file_and_the_one_create_names_that_file_never_the_key()
    {
        Runner
            .OnZfs(GetVolume(Dataset))
            .Fails(DoesNotExist(Dataset))
            .Returns(Ours(state: "creating", digest: EncryptedClass.Digest));
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZpool("get").Returns("active\n");
        Runner.OnZfs("create").Returns();
        Runner.OnZfs("set").Returns();

        await CreateAsync();

        var file = Assert.Single(KeyFiles);
        Assert.Equal("correct horse battery staple", File.ReadAllText(file));
        Assert.Contains(["get", "-H", "-o", "value", "feature@encryption", "data"], Runner.Argv);
        var create = Assert.Single(Runner.Argv, a => a[0] == "create");
        Assert.Equal(
            ["-o", "encryption=on", "-o", "keyformat=passphrase", "-o", $"keylocation=file://{file}", Dataset],
            create[^7..]
        );
        Assert.DoesNotContain(Runner.Argv.SelectMany(a => a), a => a.Contains("horse", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pool_without_the_encryption_feature_is_INVALID_ARGUMENT_before_any_key_is_written()
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        // zfs-fuse's zpool: a version 23 pool has no feature flags.
        Runner.OnZpool("get").Fails("bad property list: invalid property '-H'\n", exitCode: 2);

        var e = await Assert.ThrowsAsync<InvalidInputException>(CreateAsync);

        Assert.Contains("encryption needs OpenZFS", e.Message, StringComparison.Ordinal);
        Assert.Empty(KeyFiles);
        Assert.DoesNotContain(Runner.Argv, a => a[0] == "create");
    }

    [Fact]
    public async Task A_create_zfs_refuses_takes_its_new_key_file_with_it()
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZpool("get").Returns("enabled\n");
        Runner.OnZfs("create").Fails($"cannot create '{Dataset}': out of space\n");

        await Assert.ThrowsAsync<OutOfSpaceException>(CreateAsync);

        Assert.Empty(KeyFiles);
    }

    [Fact]
    public async Task A_create_that_timed_out_keeps_its_key_file_because_the_dataset_may_exist_and_need_it_at_boot()
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZpool("get").Returns("enabled\n");
        Runner.OnZfs("create").TimesOut();

        await Assert.ThrowsAnyAsync<ZfsCsiException>(CreateAsync);

        Assert.Single(KeyFiles);
    }

    [Fact]
    public async Task A_plain_class_given_a_key_or_an_encrypted_one_without_is_a_programming_error_not_a_silent_choice()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Encrypting.CreateAsync(
                Name,
                CapacityRange.Unspecified,
                VolumeParameters.Default,
                MutableParameters.None,
                Key,
                Ct
            )
        );
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Encrypting.CreateAsync(Name, CapacityRange.Unspecified, EncryptedClass, MutableParameters.None, null, Ct)
        );
        Assert.Empty(Runner.Argv);
    }

    [Fact]
    public async Task The_sweep_that_destroys_an_abandoned_encrypted_volume_removes_its_key_file_at_once_but_never_a_young_unused_one()
    {
        const long created = 1_700_000_000;
        var clock = new FixedClock(DateTimeOffset.FromUnixTimeSeconds(created) + TimeSpan.FromHours(2));
        var store = new KeyStore(_keys.FullName);
        var abandoned = store.Write(Core.Zfs.DatasetName.Parse(Dataset), Key);
        // A create of another volume between writing its file and its zfs create: young, named by no dataset yet.
        var young = store.Write(Core.Zfs.DatasetName.Parse("data/k8s/pvc-young"), Key);
        // Both files younger than the grace: only the destroy itself may take the abandoned one's.
        File.SetLastWriteTimeUtc(abandoned, clock.Now.UtcDateTime - TimeSpan.FromMinutes(1));
        File.SetLastWriteTimeUtc(young, clock.Now.UtcDateTime - TimeSpan.FromMinutes(1));
        ScriptSweepOfHalfMadeVolume(created, abandoned);

        await ManagerWith(clock, new VolumeOptions { ParentDataset = "data/k8s", KeyDirectory = _keys.FullName })
            .SweepAsync(Ct);

        Assert.Contains(["destroy", "-r", Dataset], Runner.Argv);
        Assert.False(File.Exists(abandoned), "the destroyed volume's key file stayed");
        Assert.True(File.Exists(young), "a key file younger than the grace was removed: its create may be running");
    }

    [Fact]
    public async Task A_destroyed_volume_whose_keylocation_names_a_hand_made_key_file_leaves_that_file()
    {
        const long created = 1_700_000_000;
        var clock = new FixedClock(DateTimeOffset.FromUnixTimeSeconds(created) + TimeSpan.FromHours(2));
        // Under the key directory, but not a name this store writes: a key several datasets may share.
        var shared = Path.Combine(_keys.FullName, "data", "k8s", "shared.key");
        Directory.CreateDirectory(Path.GetDirectoryName(shared)!);
        File.WriteAllText(shared, "a key set by hand");
        ScriptSweepOfHalfMadeVolume(created, shared);
        // A file of ours must exist for the key lookup to run at all (none: no zfs get, as on zfs-fuse).
        new KeyStore(_keys.FullName).Write(Core.Zfs.DatasetName.Parse("data/k8s/pvc-other"), Key);

        await ManagerWith(clock, new VolumeOptions { ParentDataset = "data/k8s", KeyDirectory = _keys.FullName })
            .SweepAsync(Ct);

        Assert.Contains(["destroy", "-r", Dataset], Runner.Argv);
        Assert.Contains(["get", "-H", "-p", "-o", Columns, "keylocation", Dataset], Runner.Argv);
        Assert.True(File.Exists(shared), "a hand-made key file went with one of the datasets naming it");
    }

    [Theory]
    [InlineData("data/k8s/pvc-1.0a1b2c3d.key", true)]
    [InlineData("data/k8s/shared.key", false)]
    [InlineData("data/k8s/pvc-2.0a1b2c3d.key", false)]
    [InlineData("data/other/pvc-1.0a1b2c3d.key", false)]
    [InlineData("data/k8s/.pvc-1.0a1b2c3d.key", false)]
    [InlineData("data/k8s/pvc-1.0A1B2C3D.key", false)]
    [InlineData("data//k8s/pvc-1.0a1b2c3d.key", false)]
    [InlineData("data/./k8s/pvc-1.0a1b2c3d.key", false)]
    [InlineData("data/x/../k8s/pvc-1.0a1b2c3d.key", false)]
    public void Only_a_canonically_spelled_file_of_the_stores_own_shape_for_that_volume_counts_as_one_it_wrote_for_it(
        string relative,
        bool wrote
    )
    {
        var store = new KeyStore(_keys.FullName);

        Assert.Equal(
            wrote,
            store.WroteFor(_keys.FullName + "/" + relative, Core.Zfs.DatasetName.Parse("data/k8s"), "pvc-1")
        );
    }

    /// <summary>
    /// The sweep's view of a half-made encrypted volume made at <paramref name="created"/> (Unix
    /// seconds) whose keylocation names <paramref name="keyFile"/>: listed once, read again, its
    /// keylocation read, then unmounted and destroyed.
    /// </summary>
    private void ScriptSweepOfHalfMadeVolume(long created, string keyFile)
    {
        var halfMade =
            Ours(state: Markers.StateCreating)
            + Row(Dataset, "creation", created.ToString(System.Globalization.CultureInfo.InvariantCulture), "-");
        Runner
            .OnZfs(GetInventory("data/k8s"))
            .Returns(Row("data/k8s", "name", "data/k8s", "-") + halfMade)
            .Returns(Row("data/k8s", "name", "data/k8s", "-"));
        Runner
            .OnZfs("get", "-H", "-p", "-o", Columns, "zfs-csi:name,zfs-csi:state,creation", Dataset)
            .Returns(halfMade);
        Runner
            .OnZfs("get", "-H", "-p", "-o", Columns, "keylocation", Dataset)
            .Returns(Row(Dataset, "keylocation", $"file://{keyFile}", "local"));
        Runner.OnZfs("get", "-H", "-p", "-d", "1").Returns(Row("data/k8s", "keylocation", "none", "default"));
        Runner.OnZfs("unmount").Returns();
        Runner.OnZfs("destroy").Returns();
    }

    /// <summary>A sweep of an empty parent whose children name <paramref name="keyLocations"/> (dataset, keylocation).</summary>
    private Task SweepKeysAsync(FixedClock clock, params (string Dataset, string Location)[] keyLocations)
    {
        Runner.OnZfs(GetInventory("data/k8s")).Returns(Row("data/k8s", "name", "data/k8s", "-"));
        Runner
            .OnZfs("get", "-H", "-p", "-d", "1")
            .Returns(
                Row("data/k8s", "keylocation", "none", "default")
                    + string.Concat(keyLocations.Select(k => Row(k.Dataset, "keylocation", k.Location, "local")))
            );
        return ManagerWith(clock, new VolumeOptions { ParentDataset = "data/k8s", KeyDirectory = _keys.FullName })
            .SweepAsync(Ct);
    }

    private static FixedClock SweepClock => new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));

    private static void Age(string path, FixedClock clock) =>
        File.SetLastWriteTimeUtc(path, clock.Now.UtcDateTime - TimeSpan.FromHours(2));

    [Fact]
    public async Task The_sweep_removes_no_key_file_while_a_volume_names_a_key_file_outside_the_key_directory()
    {
        var clock = SweepClock;
        var store = new KeyStore(_keys.FullName);
        var unused = store.Write(Core.Zfs.DatasetName.Parse("data/k8s/pvc-gone"), Key);
        var live = store.Write(Core.Zfs.DatasetName.Parse(Dataset), Key);
        Age(unused, clock);
        Age(live, clock);
        // --key-dir moved or spelled another way since pvc-1 was made: its keylocation names the old
        // spelling of its file, so no file here looks used. Removing them would lose pvc-1 at reboot.
        var respelled = "/etc/zfs-csi//keys/data/k8s/" + Path.GetFileName(live);

        await SweepKeysAsync(clock, (Dataset, $"file://{respelled}"));

        Assert.True(File.Exists(live), "the live volume's key file was removed");
        Assert.True(File.Exists(unused), "a key file was removed while a volume's keylocation named another directory");
    }

    [Fact]
    public async Task The_sweep_removes_an_old_unused_key_file_only_once_no_operation_holds_its_volume_name()
    {
        var clock = SweepClock;
        var file = new KeyStore(_keys.FullName).Write(Core.Zfs.DatasetName.Parse("data/k8s/pvc-slow"), Key);
        Age(file, clock);

        // A CreateVolume of that name still in its zfs create (a suspended pool, a clock stepped forward).
        using (Locks.TryAcquire("data/k8s/pvc-slow"))
        {
            await SweepKeysAsync(clock);
            Assert.True(File.Exists(file), "the key file of a create in progress was removed");
        }

        await SweepKeysAsync(clock);
        Assert.False(File.Exists(file), "an old key file no dataset names stayed once its name was free");
    }

    [Fact]
    public async Task The_sweep_removes_a_temporary_key_file_a_crash_left_once_it_is_older_than_the_grace()
    {
        var clock = SweepClock;
        var dir = new KeyStore(_keys.FullName).DirectoryFor(Core.Zfs.DatasetName.Parse("data/k8s"));
        Directory.CreateDirectory(dir);
        var old = Path.Combine(dir, ".pvc-crashed.0a1b2c3d.key.tmp");
        var young = Path.Combine(dir, ".pvc-writing.0a1b2c3d.key.tmp");
        File.WriteAllText(old, "a whole key");
        File.WriteAllText(young, "a key being written");
        Age(old, clock);
        File.SetLastWriteTimeUtc(young, clock.Now.UtcDateTime - TimeSpan.FromMinutes(1));

        await SweepKeysAsync(clock);

        Assert.False(File.Exists(old), "a crash's temporary key file stayed past the grace");
        Assert.True(File.Exists(young), "a temporary key file younger than the grace was removed");
    }

    [Fact]
    public void A_volume_s_key_files_are_its_own_and_never_those_of_a_volume_whose_name_extends_it_with_a_dot()
    {
        var store = new KeyStore(_keys.FullName);
        var a = store.Write(Core.Zfs.DatasetName.Parse("data/k8s/a"), Key);
        var ab = store.Write(Core.Zfs.DatasetName.Parse("data/k8s/a.b"), Key);

        Assert.Equal([a], store.List(Core.Zfs.DatasetName.Parse("data/k8s"), "a").Select(f => f.Path));
        Assert.Equal([ab], store.List(Core.Zfs.DatasetName.Parse("data/k8s"), "a.b").Select(f => f.Path));
        Assert.Equal("a.b", KeyStore.LeafOf(Path.GetFileName(ab)));
        Assert.Null(KeyStore.LeafOf("a.b.key"));
        Assert.Null(KeyStore.LeafOf("a.0A1B2C3D.key"));
    }

    /// <summary>A CreateVolume retry of an encrypted volume made already, whose keylocation names <paramref name="keyFile"/>.</summary>
    private Task<Volume> RetryAsync(string keyFile, string passphrase)
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(digest: EncryptedClass.Digest));
        Runner
            .OnZfs("get", "-H", "-p", "-o", Columns, "keylocation", Dataset)
            .Returns(Row(Dataset, "keylocation", $"file://{keyFile}", "local"));
        Runner.OnZfs("set").Returns();
        var key = EncryptionKey.FromSecrets(
            new Dictionary<string, string> { [EncryptionKey.SecretKey] = passphrase },
            KeyFormat.Passphrase
        );
        return Encrypting.CreateAsync(Name, CapacityRange.Unspecified, EncryptedClass, MutableParameters.None, key, Ct);
    }

    [Fact]
    public async Task A_retry_with_the_key_the_volume_was_made_with_succeeds_and_writes_no_new_key_file()
    {
        var file = new KeyStore(_keys.FullName).Write(Core.Zfs.DatasetName.Parse(Dataset), Key);

        await RetryAsync(file, "correct horse battery staple");

        Assert.Equal([file], KeyFiles);
        Assert.DoesNotContain(Runner.Argv, a => a[0] == "create");
    }

    [Fact]
    public async Task A_retry_with_another_key_is_already_exists_and_the_volume_keeps_its_first_key()
    {
        var file = new KeyStore(_keys.FullName).Write(Core.Zfs.DatasetName.Parse(Dataset), Key);

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() => RetryAsync(file, "another passphrase"));

        Assert.Contains("another encryption key", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("passphrase", e.Message.Replace("another encryption key", ""), StringComparison.Ordinal);
        Assert.Equal("correct horse battery staple", File.ReadAllText(file));
    }

    [Fact]
    public async Task A_retry_of_a_volume_whose_key_file_is_gone_is_failed_precondition_naming_the_file()
    {
        var gone = Path.Combine(_keys.FullName, "data/k8s", Name + ".0a1b2c3d.key");

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            RetryAsync(gone, "correct horse battery staple")
        );

        Assert.Contains(gone, e.Message, StringComparison.Ordinal);
        Assert.Empty(KeyFiles);
    }
}
