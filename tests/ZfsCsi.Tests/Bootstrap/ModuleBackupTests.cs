using ZfsCsi.Bootstrap.Module;

namespace ZfsCsi.Tests.Bootstrap;

/// <summary>The copy of the installed OpenZFS module files taken before make install, on real files.</summary>
public sealed class ModuleBackupTests : IDisposable
{
    private const string Release = "6.1.0-test";
    private readonly string _modules = Path.Combine(
        Path.GetTempPath(),
        "zfs-csi-backup-tests",
        Guid.NewGuid().ToString("N")
    );

    private string Extra => Path.Combine(_modules, Release, "extra");

    public void Dispose()
    {
        if (Directory.Exists(_modules))
        {
            Directory.Delete(_modules, recursive: true);
        }
    }

    private void Write(string relative, string text)
    {
        var path = Path.Combine(Extra, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private string Read(string relative) => File.ReadAllText(Path.Combine(Extra, relative));

    [Fact]
    public void Restore_puts_back_both_layouts_exactly_and_never_touches_other_modules()
    {
        // 2.0/2.1: one directory per module; later releases: the .ko files directly in extra.
        Write("zfs/zfs.ko", "old zfs");
        Write("spl/spl.ko", "old spl");
        Write("zstd/zzstd.ko", "old zstd");
        Write("zfs.ko.zst", "old flat zfs");
        Write("nvidia.ko", "not ours");
        Write("zfsfoo/other.ko", "not ours either");

        var backup = ModuleBackup.Take(_modules, Release);
        Assert.Equal(4, backup.Files);
        Assert.True(ModuleBackup.Exists(_modules, Release));
        Assert.False(
            Directory.Exists(Path.Combine(_modules, Release, ".zfs-csi-backup")),
            "the copy must stay outside the release directory depmod indexes"
        );

        // A failed make install: half-written files, one new module, a vanished one.
        Write("zfs/zfs.ko", "partial");
        Write("icp/icp.ko", "partial new");
        File.Delete(Path.Combine(Extra, "spl", "spl.ko"));
        Write("nvidia.ko", "changed by someone else");

        backup.Restore();

        Assert.Equal("old zfs", Read("zfs/zfs.ko"));
        Assert.Equal("old spl", Read("spl/spl.ko"));
        Assert.Equal("old zstd", Read("zstd/zzstd.ko"));
        Assert.Equal("old flat zfs", Read("zfs.ko.zst"));
        Assert.False(Directory.Exists(Path.Combine(Extra, "icp")));
        Assert.Equal("changed by someone else", Read("nvidia.ko"));
        Assert.Equal("not ours either", Read("zfsfoo/other.ko"));
        Assert.False(ModuleBackup.Exists(_modules, Release));
    }

    [Fact]
    public void With_nothing_installed_restore_removes_everything_the_failed_install_wrote()
    {
        var backup = ModuleBackup.Take(_modules, Release);
        Assert.Equal(0, backup.Files);

        Write("zfs/zfs.ko", "partial");
        Write("spl/spl.ko", "partial");
        backup.Restore();

        Assert.Empty(Directory.EnumerateFileSystemEntries(Extra));
    }

    [Fact]
    public void A_copy_left_by_a_killed_install_is_found_and_a_discarded_one_is_gone()
    {
        Write("zfs/zfs.ko", "old");
        ModuleBackup.Take(_modules, Release);

        var left = ModuleBackup.Find(_modules, Release);
        Assert.NotNull(left);
        Assert.Equal(1, left.Files);

        left.Discard();
        Assert.Null(ModuleBackup.Find(_modules, Release));
        Assert.Equal("old", Read("zfs/zfs.ko"));
    }

    [Fact]
    public void A_copy_still_there_from_a_failed_restore_is_kept_when_the_next_try_backs_up()
    {
        Write("zfs/zfs.ko", "known good");
        ModuleBackup.Take(_modules, Release);
        Write("zfs/zfs.ko", "half installed"); // the install failed and its restore failed too

        var again = ModuleBackup.Take(_modules, Release);
        again.Restore();

        Assert.Equal("known good", Read("zfs/zfs.ko"));
    }
}
