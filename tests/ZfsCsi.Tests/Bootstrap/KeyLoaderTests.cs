using Serilog;
using ZfsCsi.Bootstrap;
using ZfsCsi.Bootstrap.Pool;
using ZfsCsi.Bootstrap.Progress;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Bootstrap;

/// <summary>
/// The bootstrap's key step after an import, on a fake zfs: which keys it loads (only the driver's,
/// by their key files), what it mounts, and the verdict when a key does not load.
/// </summary>
public sealed class KeyLoaderTests : IDisposable
{
    private const string ListKeys = "name,keylocation,keystatus,encryptionroot,mountpoint,canmount,mounted";
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("zfs-csi-keyloader-");
    private readonly FakeCommandRunner _runner = new();
    private readonly InMemorySink _logs = new();
    private readonly ILogger _log;

    public KeyLoaderTests()
    {
        _log = _logs.CreateLogger();
        // Active: at least one encrypted dataset exists in the pool (zpool-features(7)).
        _runner.OnZpool("get").Returns("active\n");
        _runner.OnZpool("list").Returns("data\tONLINE\n");
        _runner.OnZpool("status").Returns("  pool: data\n state: ONLINE\nconfig:\n");
    }

    public void Dispose() => _root.Delete(recursive: true);

    private string KeyDir => Path.Combine(_root.FullName, "keys");

    private string KeyFile(string leaf)
    {
        var dir = Path.Combine(KeyDir, "data/k8s");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"{leaf}.0a1b2c3d.key");
        File.WriteAllText(path, "correct horse battery staple");
        return path;
    }

    /// <summary>The pool half of one check (the pool imported already, as after the host's import): ready or not, and why.</summary>
    private async Task<(bool Ready, string Reason)> CheckAsync(string module = "kernel")
    {
        var options = BootstrapOptions.Parse([
            "once",
            "--pool",
            "data",
            "--module",
            module,
            "--import-mount",
            "all",
            "--key-dir",
            KeyDir,
            "--status-file",
            Path.Combine(_root.FullName, "status.json"),
            "--mount-lock-file",
            "",
        ]);
        using var progress = new BootstrapProgress(_log, options.StatusFile, watching: false, TimeSpan.FromSeconds(5));
        using var mounts = new MountSerializer(lockFile: null, TimeSpan.FromSeconds(5));
        var pool = new PoolBootstrapper(_runner, options, progress, mounts, _log);
        try
        {
            return await pool.EnsureAsync(CancellationToken.None);
        }
        catch (BootstrapException e)
        {
            return (false, $"{e.Step}: {e.Message}");
        }
    }

    private IEnumerable<string> Zfs => _runner.Commands.Where(c => c.Program == "zfs").Select(c => c.ToString());

    [Theory]
    [InlineData("enabled\n", 0)]
    [InlineData("disabled\n", 0)]
    [InlineData(null, 2)]
    public async Task On_a_pool_without_encrypted_datasets_or_without_feature_flags_no_zfs_command_runs(
        string? state,
        int exitCode
    )
    {
        var zpoolGet = _runner.OnZpool("get", "-H", "-o", "value", "feature@encryption", "data");
        if (state is null)
        {
            // zfs-fuse: pool version 23, no feature flags.
            zpoolGet.Fails("bad property list: invalid property '-H'\n", exitCode);
        }
        else
        {
            zpoolGet.Returns(state);
        }

        var (ready, reason) = await CheckAsync();

        Assert.True(ready, reason);
        Assert.Empty(Zfs);
    }

    [Fact]
    public async Task With_zfs_fuse_which_has_no_native_encryption_not_even_the_feature_is_asked()
    {
        var (ready, reason) = await CheckAsync(module: "none");

        Assert.True(ready, reason);
        Assert.DoesNotContain(_runner.Commands, c => c.ToString().StartsWith("zpool get", StringComparison.Ordinal));
        Assert.Empty(Zfs);
    }

    [Fact]
    public async Task A_locked_volume_is_unlocked_from_its_own_key_file_and_mounted_with_its_clones_parents_first()
    {
        var key = KeyFile("pvc-a");
        _runner
            .OnZfs("list")
            .Returns(
                string.Join(
                    '\n',
                    "data\tnone\t-\t-\t/data\ton\tyes",
                    "data/k8s\tnone\t-\t-\t/data/k8s\ton\tyes",
                    $"data/k8s/pvc-a\tfile://{key}\tunavailable\tdata/k8s/pvc-a\t/data/k8s/pvc-a\ton\tno",
                    "data/k8s/pvc-b\tnone\tunavailable\tdata/k8s/pvc-a\t/data/k8s/pvc-b\ton\tno",
                    "data/k8s/plain\tnone\t-\t-\t/data/k8s/plain\ton\tyes"
                )
            );
        _runner.OnZfs("load-key").Returns();
        _runner.OnZfs("mount").Returns();

        var (ready, reason) = await CheckAsync();

        Assert.True(ready, reason);
        Assert.Contains("1 encryption key(s) loaded", reason, StringComparison.Ordinal);
        Assert.Equal(
            [
                $"zfs list -H -o {ListKeys} -r -t filesystem data",
                "zfs load-key data/k8s/pvc-a",
                "zfs mount data/k8s/pvc-a",
                "zfs mount data/k8s/pvc-b",
            ],
            Zfs
        );
    }

    [Fact]
    public async Task Encrypted_datasets_the_driver_did_not_make_are_left_locked_and_do_not_hold_readiness()
    {
        KeyFile("pvc-a");
        _runner
            .OnZfs("list")
            .Returns(
                "data/home\tprompt\tunavailable\tdata/home\t/home\ton\tno\n"
                    + "data/other\tfile:///root/other.key\tunavailable\tdata/other\t/other\ton\tno\n"
            );

        var (ready, reason) = await CheckAsync();

        Assert.True(ready, reason);
        Assert.DoesNotContain(Zfs, c => c.Contains("load-key", StringComparison.Ordinal));
        Assert.DoesNotContain(Zfs, c => c.Contains("mount", StringComparison.Ordinal) && !c.StartsWith("zfs list"));
    }

    [Fact]
    public async Task A_key_that_does_not_load_makes_the_bootstrap_not_ready_naming_the_volume_and_zfs_words_and_mounts_none_of_its_datasets()
    {
        var wrong = KeyFile("pvc-a");
        var right = KeyFile("pvc-c");
        _runner
            .OnZfs("list")
            .Returns(
                $"data/k8s/pvc-a\tfile://{wrong}\tunavailable\tdata/k8s/pvc-a\t/data/k8s/pvc-a\ton\tno\n"
                    + "data/k8s/pvc-b\tnone\tunavailable\tdata/k8s/pvc-a\t/data/k8s/pvc-b\ton\tno\n"
                    + $"data/k8s/pvc-c\tfile://{right}\tunavailable\tdata/k8s/pvc-c\t/data/k8s/pvc-c\ton\tno\n"
            );
        _runner
            .OnZfs("load-key", "data/k8s/pvc-a")
            .Fails("Key load error: Incorrect key provided for 'data/k8s/pvc-a'.\n", exitCode: 255);
        _runner.OnZfs("load-key", "data/k8s/pvc-c").Returns();
        _runner.OnZfs("mount").Returns();

        var (ready, reason) = await CheckAsync();

        Assert.False(ready, reason);
        Assert.Contains("1 encrypted volume key(s) did not load", reason, StringComparison.Ordinal);
        Assert.Contains("data/k8s/pvc-a: zfs load-key exited 255", reason, StringComparison.Ordinal);
        Assert.Contains("Incorrect key provided", reason, StringComparison.Ordinal);
        Assert.Contains(wrong, reason, StringComparison.Ordinal);
        // The volume whose key loaded is served; the locked one and its clone are not mounted.
        Assert.Equal(["zfs mount data/k8s/pvc-c"], Zfs.Where(c => c.StartsWith("zfs mount", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_key_file_that_is_gone_is_named_as_missing_without_asking_zfs()
    {
        // The only key file, and its directory, are gone: the pool still says a volume is encrypted.
        var gone = KeyFile("pvc-a");
        Directory.Delete(KeyDir, recursive: true);
        _runner
            .OnZfs("list")
            .Returns($"data/k8s/pvc-a\tfile://{gone}\tunavailable\tdata/k8s/pvc-a\t/data/k8s/pvc-a\ton\tno\n");

        var (ready, reason) = await CheckAsync();

        Assert.False(ready, reason);
        Assert.Contains($"data/k8s/pvc-a: its key file {gone} is missing", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Zfs, c => c.Contains("load-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_loaded_earlier_whose_datasets_were_never_mounted_is_not_loaded_again_but_its_datasets_are_mounted()
    {
        var key = KeyFile("pvc-a");
        _runner
            .OnZfs("list")
            .Returns($"data/k8s/pvc-a\tfile://{key}\tavailable\tdata/k8s/pvc-a\t/data/k8s/pvc-a\ton\tno\n");
        _runner.OnZfs("mount").Returns();

        var (ready, reason) = await CheckAsync();

        Assert.True(ready, reason);
        Assert.DoesNotContain(Zfs, c => c.Contains("load-key", StringComparison.Ordinal));
        Assert.Contains("zfs mount data/k8s/pvc-a", Zfs);
    }

    [Fact]
    public async Task A_locked_volume_whose_key_file_lies_outside_the_key_directory_is_left_locked_and_named_in_a_warning()
    {
        _runner
            .OnZfs("list")
            .Returns(
                string.Join(
                    '\n',
                    "data\tnone\t-\t-\t/data\ton\tyes",
                    "data/k8s/pvc-a\tfile:///etc/zfs-csi/old-keys/data/k8s/pvc-a.0a1b2c3d.key\tunavailable\tdata/k8s/pvc-a\t/data/k8s/pvc-a\ton\tno"
                )
            );

        var (ready, reason) = await CheckAsync();

        Assert.True(ready, reason);
        Assert.DoesNotContain(Zfs, c => c.StartsWith("zfs load-key", StringComparison.Ordinal));
        Assert.Contains(_logs.Rendered, m =>
            m.Contains("data/k8s/pvc-a", StringComparison.Ordinal)
            && m.Contains("outside --key-dir", StringComparison.Ordinal)
        );
    }
}
