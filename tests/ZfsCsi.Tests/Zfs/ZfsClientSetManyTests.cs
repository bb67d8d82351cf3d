using ZfsCsi.Core.Zfs;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Zfs;

public sealed class ZfsClientSetManyTests : IDisposable
{
    private static readonly DatasetName Volume = DatasetName.Parse("data/k8s/pvc-1");
    private readonly FakeCommandRunner _runner = new();
    private readonly MountSerializer _mounts = new(lockFile: null);

    private ZfsClient NewClient() => new(_runner, new ZfsOptions { CommandTimeout = TimeSpan.FromSeconds(5) }, _mounts);

    public void Dispose() => _mounts.Dispose();

    private static readonly KeyValuePair<string, string>[] Two = [new("atime", "off"), new("compression", "gzip")];

    [Fact]
    public async Task One_property_is_a_plain_set()
    {
        _runner.OnZfs("set").Returns();

        await NewClient().SetManyAsync(Volume, [new("compression", "gzip")], CancellationToken.None);

        Assert.Equal(
            [
                ["set", "compression=gzip", "data/k8s/pvc-1"],
            ],
            _runner.Argv
        );
    }

    [Fact]
    public async Task Where_zfs_takes_several_they_go_in_one_set_every_time()
    {
        _runner.OnZfs("set").Returns();
        var client = NewClient();

        await client.SetManyAsync(Volume, Two, CancellationToken.None);
        await client.SetManyAsync(Volume, Two, CancellationToken.None);

        Assert.Equal(2, _runner.Argv.Count);
        Assert.All(_runner.Argv, a => Assert.Equal(["set", "atime=off", "compression=gzip", "data/k8s/pvc-1"], a));
    }

    [Fact]
    public async Task Zfs_fuse_answering_that_the_second_pair_is_no_dataset_gets_one_set_per_property_from_then_on()
    {
        _runner.OnZfs("set").Returns();
        _runner.OnZfs("set", "atime=off", "compression=gzip").Fails(ZfsFuseOutput.SetSecondPairIsNoDataset);
        var client = NewClient();

        await client.SetManyAsync(Volume, Two, CancellationToken.None);
        await client.SetManyAsync(Volume, Two, CancellationToken.None);

        Assert.Equal(
            [
                ["set", "atime=off", "compression=gzip", "data/k8s/pvc-1"],
                ["set", "atime=off", "data/k8s/pvc-1"],
                ["set", "compression=gzip", "data/k8s/pvc-1"],
                ["set", "atime=off", "data/k8s/pvc-1"],
                ["set", "compression=gzip", "data/k8s/pvc-1"],
            ],
            _runner.Argv
        );
    }

    [Fact]
    public async Task Any_other_failure_of_the_combined_set_is_the_caller_error_and_is_not_taken_for_zfs_fuse()
    {
        _runner.OnZfs("set").Fails(ZfsFuseOutput.CompressionMustBeOneOf);

        await Assert.ThrowsAsync<ZfsInvalidArgumentException>(() =>
            NewClient().SetManyAsync(Volume, Two, CancellationToken.None)
        );

        Assert.Single(_runner.Argv);
    }
}
