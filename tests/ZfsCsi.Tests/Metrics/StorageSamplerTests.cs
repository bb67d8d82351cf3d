using ZfsCsi.Core.Metrics;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Metrics;

public sealed class StorageSamplerTests : IDisposable
{
    private const string Parent = "data/k8s";
    internal static readonly string[] PoolHealthArgv = ["list", "-H", "-o", "name,health"];
    internal static readonly string[] FragmentationArgv = ["list", "-H", "-o", "name,fragmentation"];
    internal static readonly string[] PoolSpaceArgv = ["get", "-H", "-p", "-o", Columns, "used,available", "data"];
    internal static readonly string[] ChildrenArgv =
    [
        "get",
        "-H",
        "-p",
        "-d",
        "1",
        "-o",
        Columns,
        string.Join(',', StorageSampler.VolumeProperties),
        Parent,
    ];

    private readonly FakeCommandRunner _runner = new();
    private readonly MountSerializer _mounts = new(lockFile: null);

    public void Dispose() => _mounts.Dispose();

    private StorageSampler Sampler =>
        new(new ZfsClient(_runner, new ZfsOptions(), _mounts), new VolumeOptions { ParentDataset = Parent });

    /// <summary>One volume's rows as zfs get -Hp prints them; markers null print "-" with source "-".</summary>
    internal static string Volume(
        string dataset,
        string? csiName,
        string? state,
        long refquota = 0,
        long referenced = 0,
        long bySnapshots = 0,
        long used = 0,
        string ratio = "1.00"
    )
    {
        string Marker(string property, string? value) =>
            value is null ? Row(dataset, property, "-", "-") : Row(dataset, property, value, "local");
        static string N(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Marker(Markers.CsiName, csiName is null ? null : Markers.EncodeName(csiName))
            + Marker(Markers.State, csiName is null ? null : state)
            + Row(dataset, "refquota", N(refquota), refquota == 0 ? "default" : "local")
            + Row(dataset, "quota", "0", "default")
            + Row(dataset, "referenced", N(referenced), "-")
            + Row(dataset, "usedbysnapshots", N(bySnapshots), "-")
            + Row(dataset, "used", N(used), "-")
            + Row(dataset, "compressratio", ratio, "-");
    }

    /// <param name="fragmentation">null: the listing fails as on zfs-fuse.</param>
    internal static void ScriptPool(FakeCommandRunner runner, string children, string? fragmentation = "data\t7%\n")
    {
        runner.OnZpool(PoolHealthArgv).Returns("data\tONLINE\n");
        if (fragmentation is null)
        {
            runner
                .OnZpool(FragmentationArgv)
                .Fails("bad property list: invalid property 'fragmentation'\n", exitCode: 2);
        }
        else
        {
            runner.OnZpool(FragmentationArgv).Returns(fragmentation);
        }
        runner.OnZfs(PoolSpaceArgv).Returns(Row("data", "used", "3000", "-") + Row("data", "available", "7000", "-"));
        runner.OnZfs(ChildrenArgv).Returns(children);
    }

    [Fact]
    public async Task One_sample_reads_the_pool_and_every_volume_in_four_commands_however_many_volumes()
    {
        ScriptPool(
            _runner,
            Volume(Parent, null, null)
                + Volume(
                    $"{Parent}/pvc-1",
                    "pvc-1",
                    Markers.StateReady,
                    refquota: 1L << 30,
                    referenced: 5000,
                    bySnapshots: 700,
                    used: 5700,
                    ratio: "1.50"
                )
                + Volume(
                    $"{Parent}/pvc-2",
                    "pvc-2",
                    Markers.StateReady,
                    refquota: 2L << 30,
                    referenced: 100,
                    ratio: "1.00x"
                )
                + Volume($"{Parent}/pvc-3", "pvc-3", Markers.StateReady, refquota: 3L << 30)
                + Volume($"{Parent}/pvc-kept", "pvc-kept", Markers.StateDeleted, used: 9000)
                + Volume($"{Parent}/pvc-half", "pvc-half", Markers.StateCreating)
                + Volume($"{Parent}/foreign", null, null, used: 123)
        );

        var sample = await Sampler.SampleAsync(CancellationToken.None);

        Assert.Equal(4, _runner.Commands.Count);
        Assert.Equal(new PoolSample("data", "ONLINE", 10000, 7000, 0.07), sample.Pool);
        Assert.Equal(["data/k8s/pvc-1", "data/k8s/pvc-2", "data/k8s/pvc-3"], sample.Volumes.Select(v => v.VolumeId));
        Assert.Equal(new VolumeSample("data/k8s/pvc-1", 5000, 700, 1L << 30, 1.5), sample.Volumes[0]);
        // zfs-fuse prints the ratio with its x even under -p.
        Assert.Equal(1.0, sample.Volumes[1].CompressRatio);
        Assert.Equal((1, 9000L), (sample.KeptVolumes, sample.KeptBytes));
    }

    [Fact]
    public async Task A_pool_that_is_not_imported_is_a_sample_without_space_and_runs_no_zfs()
    {
        _runner.OnZpool(PoolHealthArgv).Returns("other\tONLINE\n");

        var sample = await Sampler.SampleAsync(CancellationToken.None);

        Assert.Equal(new PoolSample("data", null, null, null, null), sample.Pool);
        Assert.Empty(sample.Volumes);
        Assert.Single(_runner.Commands);
    }

    [Fact]
    public async Task A_zpool_without_fragmentation_like_zfs_fuse_gives_a_sample_without_it()
    {
        ScriptPool(_runner, Volume(Parent, null, null), fragmentation: null);

        var sample = await Sampler.SampleAsync(CancellationToken.None);

        Assert.Equal("ONLINE", sample.Pool.Health);
        Assert.Null(sample.Pool.FragmentationRatio);
        Assert.Equal(10000, sample.Pool.SizeBytes);
    }
}
