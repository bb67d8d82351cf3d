using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Zfs;

public sealed class ZfsArgsTests
{
    private static readonly DatasetName Volume = DatasetName.Parse("data/k8s/pvc-1");

    [Fact]
    public void Get_asks_for_exact_tab_separated_columns_of_every_dataset()
    {
        var argv = ZfsArgs.Get(["refquota", "mounted"], [Volume, DatasetName.Parse("data")]);

        Assert.Equal(
            ["get", "-H", "-p", "-o", "name,property,value,source", "refquota,mounted", "data/k8s/pvc-1", "data"],
            argv
        );
    }

    [Fact]
    public void Get_children_limits_the_depth_to_one_in_a_single_command()
    {
        var argv = ZfsArgs.GetChildren(["zfs-csi:name", "refquota"], DatasetName.Parse("data/k8s"));

        Assert.Equal(
            ["get", "-H", "-p", "-d", "1", "-o", "name,property,value,source", "zfs-csi:name,refquota", "data/k8s"],
            argv
        );
    }

    [Fact]
    public void Create_passes_every_property_as_an_option_of_the_one_create()
    {
        var argv = ZfsArgs.Create(
            Volume,
            [
                new("refquota", "1073741824"),
                new("refreservation", "1073741824"),
                new("compression", "lz4"),
                new("zfs-csi:name", "cHZjLTE"),
                new("zfs-csi:state", "creating"),
            ]
        );

        Assert.Equal(
            [
                "create",
                "-o",
                "refquota=1073741824",
                "-o",
                "refreservation=1073741824",
                "-o",
                "compression=lz4",
                "-o",
                "zfs-csi:name=cHZjLTE",
                "-o",
                "zfs-csi:state=creating",
                "data/k8s/pvc-1",
            ],
            argv
        );
    }

    [Fact]
    public void Create_without_properties_is_just_the_name()
    {
        Assert.Equal(["create", "data/k8s/pvc-1"], ZfsArgs.Create(Volume, []));
    }

    [Fact]
    public void Create_with_parents_uses_the_p_flag()
    {
        Assert.Equal(["create", "-p", "data/k8s"], ZfsArgs.CreateWithParents(DatasetName.Parse("data/k8s")));
    }

    [Fact]
    public void Set_sets_one_property_per_command()
    {
        Assert.Equal(["set", "zfs-csi:state=ready", "data/k8s/pvc-1"], ZfsArgs.Set(Volume, "zfs-csi:state", "ready"));
    }

    [Fact]
    public void Unmount_mount_and_destroy_use_plain_flags_only()
    {
        Assert.Equal(["unmount", "data/k8s/pvc-1"], ZfsArgs.Unmount(Volume));
        Assert.Equal(["mount", "data/k8s/pvc-1"], ZfsArgs.Mount(Volume));
        Assert.Equal(["destroy", "-r", "data/k8s/pvc-1"], ZfsArgs.DestroyRecursive(Volume));
    }

    public static TheoryData<string[]> EveryBuilder()
    {
        var ds = DatasetName.Parse("data/k8s/x-1");
        var parent = DatasetName.Parse("data/k8s");
        return new TheoryData<string[]>
        {
            ZfsArgs.Get(["refquota"], [ds]),
            ZfsArgs.GetChildren(["refquota"], parent),
            ZfsArgs.Create(ds, [new("refquota", "1048576"), new("zfs-csi:state", "creating")]),
            ZfsArgs.CreateWithParents(parent),
            ZfsArgs.Set(ds, "refquota", "1048576"),
            ZfsArgs.Unmount(ds),
            ZfsArgs.Mount(ds),
            ZfsArgs.DestroyRecursive(ds),
            ZfsArgs.PoolImport(DatasetName.Parse("data"), ["/dev/disk/by-id"], mount: false),
            ZfsArgs.PoolStatus(DatasetName.Parse("data")),
            ZfsArgs.ListMounts(DatasetName.Parse("data")),
            ZfsArgs.MountListed("data/home/with space"),
        };
    }

    [Theory]
    [MemberData(nameof(EveryBuilder))]
    public void No_argument_where_a_name_or_value_goes_starts_with_a_dash(string[] argv)
    {
        // Flags are only the fixed ones the builder itself writes; names and property=value never look like one.
        string[] flags = ["-H", "-p", "-d", "-o", "-r", "-t", "-N"];
        for (var i = 0; i < argv.Length; i++)
        {
            if (flags.Contains(argv[i]))
            {
                i += argv[i] is "-d" or "-o" or "-t" ? 1 : 0;
                continue;
            }
            Assert.False(
                argv[i].StartsWith('-'),
                $"argv[{i}] '{argv[i]}' starts with '-' in: {string.Join(' ', argv)}"
            );
        }
        Assert.DoesNotContain(argv, a => a.Length == 0);
    }

    [Fact]
    public void A_name_that_would_start_with_a_dash_cannot_be_made_at_all()
    {
        Assert.False(DatasetName.TryParse("-rf", out _, out _));
        Assert.False(DatasetName.TryParse("data/-rf", out _, out _));
    }

    [Fact]
    public void Set_many_puts_every_pair_before_the_dataset()
    {
        Assert.Equal(
            ["set", "atime=off", "compression=gzip", "data/k8s/pvc-1"],
            ZfsArgs.SetMany(DatasetName.Parse("data/k8s/pvc-1"), [new("atime", "off"), new("compression", "gzip")])
        );
    }
}
