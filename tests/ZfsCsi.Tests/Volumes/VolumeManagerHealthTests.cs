using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

public sealed class VolumeManagerHealthTests : VolumeManagerHarness
{
    [Fact]
    public async Task A_mounted_volume_on_an_online_pool_is_healthy()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours());
        Runner.OnZpool("list").Returns("data\tONLINE\n");

        var health = await Manager.GetHealthAsync(Dataset, Ct);

        Assert.True(health.Healthy);
    }

    [Theory]
    [InlineData(false, "data\tONLINE\n", "DatasetNotMounted", HealthStatus.Inaccessible)]
    [InlineData(true, "data\tDEGRADED\n", "PoolDegraded", HealthStatus.Degraded)]
    [InlineData(true, "data\tFAULTED\n", "PoolUnavailable", HealthStatus.Inaccessible)]
    [InlineData(true, "data\tSUSPENDED\n", "PoolUnavailable", HealthStatus.Inaccessible)]
    public async Task Each_problem_is_reported_with_its_reason(
        bool mounted,
        string zpoolList,
        string reason,
        HealthStatus status
    )
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(mounted: mounted));
        Runner.OnZpool("list").Returns(zpoolList);

        var issue = Assert.Single((await Manager.GetHealthAsync(Dataset, Ct)).Issues);

        Assert.Equal(reason, issue.Reason);
        Assert.Equal(status, issue.Status);
    }

    [Fact]
    public async Task Health_of_an_unknown_volume_is_not_found()
    {
        await Assert.ThrowsAsync<NotFoundException>(() => Manager.GetHealthAsync("data/elsewhere/x", Ct));
    }

    [Fact]
    public async Task Listing_health_reports_only_unhealthy_volumes_from_one_zfs_and_one_zpool_process()
    {
        Runner
            .OnZfs(GetChildren())
            .Returns(
                VolumeRows("data/k8s", csiName: null)
                    + Ours("data/k8s/pvc-a", "pvc-a")
                    + Ours("data/k8s/pvc-b", "pvc-b", mounted: false)
                    + Ours("data/k8s/pvc-c", "pvc-c", mounted: false)
            );
        Runner.OnZpool("list").Returns("data\tONLINE\n");

        var page = await Manager.ListHealthAsync(0, null, Ct);

        Assert.Equal(["data/k8s/pvc-b", "data/k8s/pvc-c"], page.Entries.Select(e => e.Id.Value));
        Assert.Null(page.NextToken);
        Assert.Equal(["zfs", "zpool"], Runner.Commands.Select(c => c.Program));
    }

    [Fact]
    public async Task Listing_health_pages_with_tokens()
    {
        Runner
            .OnZfs(GetChildren())
            .Returns(
                VolumeRows("data/k8s", csiName: null)
                    + string.Concat(new[] { "pvc-c", "pvc-a", "pvc-b" }.Select(n => Ours("data/k8s/" + n, n)))
            );
        Runner.OnZpool("list").Returns("data\tDEGRADED\n");

        var first = await Manager.ListHealthAsync(2, null, Ct);
        var second = await Manager.ListHealthAsync(2, first.NextToken, Ct);

        Assert.Equal(["data/k8s/pvc-a", "data/k8s/pvc-b"], first.Entries.Select(e => e.Id.Value));
        Assert.Equal(["data/k8s/pvc-c"], second.Entries.Select(e => e.Id.Value));
        Assert.Null(second.NextToken);
    }

    [Fact]
    public async Task Get_of_an_unfinished_volume_is_not_found()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(state: Markers.StateCreating));

        await Assert.ThrowsAsync<NotFoundException>(() => Manager.GetAsync(Dataset, Ct));
    }
}
