using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Zfs;

/// <summary>The argv the bootstrap runs: the pool's import and status, and the mounts after an import with -N.</summary>
public sealed class ZfsArgsBootstrapTests
{
    private static readonly DatasetName Pool = DatasetName.Parse("data");

    [Fact]
    public void An_import_that_mounts_is_the_pool_name_after_every_search_directory_and_never_forced()
    {
        Assert.Equal(
            ["import", "-d", "/dev/disk/by-id", "-d", "/var/tmp/disks", "data"],
            ZfsArgs.PoolImport(Pool, ["/dev/disk/by-id", "/var/tmp/disks"], mount: true)
        );
    }

    [Fact]
    public void An_import_without_search_directories_leaves_the_search_to_zpool()
    {
        Assert.Equal(["import", "data"], ZfsArgs.PoolImport(Pool, [], mount: true));
    }

    [Fact]
    public void An_import_that_mounts_nothing_puts_N_before_the_search_directories()
    {
        Assert.Equal(
            ["import", "-N", "-d", "/dev/disk/by-id", "data"],
            ZfsArgs.PoolImport(Pool, ["/dev/disk/by-id"], mount: false)
        );
        Assert.Equal(["import", "-N", "data"], ZfsArgs.PoolImport(Pool, [], mount: false));
    }

    [Fact]
    public void An_import_never_carries_a_force_flag()
    {
        Assert.DoesNotContain("-f", ZfsArgs.PoolImport(Pool, ["/dev"], mount: true));
        Assert.DoesNotContain("-f", ZfsArgs.PoolImport(Pool, ["/dev"], mount: false));
    }

    [Theory]
    [InlineData("disks")]
    [InlineData("-f")]
    [InlineData("")]
    public void A_search_directory_that_is_not_an_absolute_path_is_refused(string dir)
    {
        Assert.Throws<ArgumentException>(() => ZfsArgs.PoolImport(Pool, [dir], mount: true));
    }

    [Fact]
    public void A_dataset_is_not_a_pool_to_import_or_report_on()
    {
        var dataset = DatasetName.Parse("data/k8s");

        Assert.Throws<ArgumentException>(() => ZfsArgs.PoolImport(dataset, [], mount: true));
        Assert.Throws<ArgumentException>(() => ZfsArgs.PoolStatus(dataset));
    }

    [Fact]
    public void Status_names_the_one_pool()
    {
        Assert.Equal(["status", "data"], ZfsArgs.PoolStatus(Pool));
    }

    [Fact]
    public void Listing_mounts_asks_for_name_mountpoint_canmount_and_mounted_of_every_filesystem_below_without_p()
    {
        Assert.Equal(
            ["list", "-H", "-o", "name,mountpoint,canmount,mounted", "-r", "-t", "filesystem", "data"],
            ZfsArgs.ListMounts(Pool)
        );
        Assert.Equal(
            ["list", "-H", "-o", "name,mountpoint,canmount,mounted", "-r", "-t", "filesystem", "data/k8s"],
            ZfsArgs.ListMounts(DatasetName.Parse("data/k8s"))
        );
    }

    [Fact]
    public void A_listed_name_is_mounted_as_one_argument_spaces_included()
    {
        Assert.Equal(["mount", "data/home/with space"], ZfsArgs.MountListed("data/home/with space"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-a")]
    public void A_name_zfs_cannot_have_listed_is_not_mounted(string name)
    {
        Assert.Throws<ArgumentException>(() => ZfsArgs.MountListed(name));
    }

    [Fact]
    public void The_userland_release_is_asked_with_the_version_flag_never_the_version_subcommand()
    {
        // OpenZFS answers -V/--version before libzfs_init(); "zfs version" needs the module loaded.
        Assert.Equal(["--version"], ZfsArgs.Version());
    }
}
