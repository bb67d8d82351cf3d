using ZfsCsi.Core.Health;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Health;

public sealed class StorageHealthTests : IDisposable
{
    private readonly FakeCommandRunner _runner = new();
    private readonly MountSerializer _mounts = new(lockFile: null);

    private StorageHealth Health =>
        new(new ZfsClient(_runner, new ZfsOptions(), _mounts), new VolumeOptions { ParentDataset = "data/k8s" });

    public void Dispose() => _mounts.Dispose();

    private void ParentExists(bool exists)
    {
        if (exists)
        {
            _runner.OnZfs(GetName("data/k8s")).Returns(Row("data/k8s", "name", "data/k8s", "-"));
        }
        else
        {
            _runner.OnZfs(GetName("data/k8s")).Fails(DoesNotExist("data/k8s"));
        }
    }

    [Fact]
    public async Task An_online_pool_with_the_parent_is_ready()
    {
        _runner.OnZpool("list").Returns(ZfsFuseOutput.ZpoolList);
        ParentExists(true);

        var readiness = await Health.CheckAsync(CancellationToken.None);

        Assert.True(readiness.Ready, readiness.Reason);
    }

    [Fact]
    public async Task A_degraded_pool_serves_but_says_so()
    {
        _runner.OnZpool("list").Returns("data\tDEGRADED\n");
        ParentExists(true);

        var readiness = await Health.CheckAsync(CancellationToken.None);

        Assert.True(readiness.Ready);
        Assert.Contains("DEGRADED", readiness.Reason);
    }

    [Theory]
    [InlineData("data\tFAULTED\n", "FAULTED")]
    [InlineData("data\tSUSPENDED\n", "SUSPENDED")]
    [InlineData("tank\tONLINE\n", "not imported")]
    [InlineData("", "not imported")]
    public async Task A_pool_that_cannot_serve_is_not_ready(string zpoolList, string reason)
    {
        _runner.OnZpool("list").Returns(zpoolList);

        var readiness = await Health.CheckAsync(CancellationToken.None);

        Assert.False(readiness.Ready);
        Assert.Contains(reason, readiness.Reason);
    }

    [Fact]
    public async Task A_missing_parent_on_an_imported_pool_is_created_and_ready()
    {
        _runner.OnZpool("list").Returns("data\tONLINE\n");
        ParentExists(false);
        _runner.OnZfs("create", "-p", "data/k8s").Returns();

        var readiness = await Health.CheckAsync(CancellationToken.None);

        Assert.True(readiness.Ready);
        Assert.Contains(["create", "-p", "data/k8s"], _runner.Argv);
    }

    [Fact]
    public async Task A_parent_that_cannot_be_created_is_not_ready_with_zfs_reason()
    {
        _runner.OnZpool("list").Returns("data\tONLINE\n");
        ParentExists(false);
        _runner.OnZfs("create").Fails("cannot create 'data/k8s': out of space\n");

        var readiness = await Health.CheckAsync(CancellationToken.None);

        Assert.False(readiness.Ready);
        Assert.Contains("data/k8s", readiness.Reason);
    }

    [Fact]
    public async Task A_hung_zpool_is_not_ready_rather_than_a_hung_probe()
    {
        _runner.OnZpool("list").TimesOut();

        var readiness = await Health.CheckAsync(CancellationToken.None);

        Assert.False(readiness.Ready);
    }

    [Fact]
    public async Task A_hung_parent_check_is_not_ready_rather_than_an_error()
    {
        _runner.OnZpool("list").Returns("data\tONLINE\n");
        _runner.OnZfs("get").TimesOut();

        var readiness = await Health.CheckAsync(CancellationToken.None);

        Assert.False(readiness.Ready);
    }

    [Fact]
    public async Task The_parent_is_created_with_its_ancestors_only_when_missing()
    {
        ParentExists(false);
        _runner.OnZfs("create", "-p").Returns();

        await Health.EnsureParentAsync(CancellationToken.None);

        Assert.Equal(["create", "-p", "data/k8s"], _runner.Argv[^1]);
    }
}
