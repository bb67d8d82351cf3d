using ZfsCsi.Core.Errors;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

/// <summary>
/// DeleteVolume without snapshots on the fake runner: one recursive read, unmount, destroy -r, then
/// the sweep's one read of the parent. (Retaining volumes that snapshots still need is covered by
/// the snapshot tests.)
/// </summary>
public sealed class VolumeManagerDeleteTests : VolumeManagerHarness
{
    private const string Parent = "data/k8s";

    private void ScriptEmptySweep() => Runner.OnZfs(GetInventory(Parent)).Returns(Row(Parent, "name", Parent, "-"));

    [Fact]
    public async Task A_volume_of_ours_is_read_unmounted_destroyed_and_a_sweep_asked_for_not_run()
    {
        Runner.OnZfs(GetInventory(Dataset)).Returns(Ours());
        Runner.OnZfs("unmount").Returns();
        Runner.OnZfs("destroy").Returns();

        await Manager.DeleteAsync(Dataset, Ct);

        // The delete's own work only: the parent is never listed inside the RPC (O(inventory)).
        Assert.Equal([GetInventory(Dataset), ["unmount", Dataset], ["destroy", "-r", Dataset]], Runner.Argv);
        Assert.True(Sweeps.TryTake());
    }

    [Fact]
    public async Task A_creating_leftover_of_ours_is_destroyed_too()
    {
        Runner.OnZfs(GetInventory(Dataset)).Returns(Ours(state: Core.Volumes.Markers.StateCreating));
        Runner.OnZfs("unmount").Returns();
        Runner.OnZfs("destroy").Returns();
        ScriptEmptySweep();

        await Manager.DeleteAsync(Dataset, Ct);

        Assert.Contains(["destroy", "-r", Dataset], Runner.Argv);
    }

    [Fact]
    public async Task A_dataset_without_our_marker_is_never_destroyed()
    {
        Runner.OnZfs(GetInventory(Dataset)).Returns(Foreign());

        await Manager.DeleteAsync(Dataset, Ct);

        Assert.Equal([GetInventory(Dataset)], Runner.Argv);
    }

    [Fact]
    public async Task A_dataset_whose_marker_is_only_inherited_is_never_destroyed()
    {
        Runner
            .OnZfs(GetInventory(Dataset))
            .Returns(VolumeRows(Dataset, Name, refquota: GiB, markerSource: "inherited from data/k8s"));

        await Manager.DeleteAsync(Dataset, Ct);

        Assert.Equal([GetInventory(Dataset)], Runner.Argv);
    }

    [Theory]
    [InlineData("data/other/x")]
    [InlineData("data/k8s")]
    [InlineData("data/k8s/..")]
    [InlineData("data/k8s/a/b")]
    [InlineData("tank/k8s/pvc-1")]
    [InlineData("-rf")]
    public async Task An_id_that_cannot_be_ours_succeeds_without_running_anything(string id)
    {
        await Manager.DeleteAsync(id, Ct);

        Assert.Empty(Runner.Calls);
    }

    [Fact]
    public async Task A_volume_already_gone_succeeds_once_the_parent_is_seen()
    {
        Runner.OnZfs(GetInventory(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetName(Parent)).Returns(Row(Parent, "name", Parent, "-"));

        await Manager.DeleteAsync(Dataset, Ct);

        Assert.Equal([GetInventory(Dataset), GetName(Parent)], Runner.Argv);
    }

    [Fact]
    public async Task Without_the_parent_dataset_delete_is_unavailable_never_a_silent_success()
    {
        Runner.OnZfs(GetInventory(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetName(Parent)).Fails(DoesNotExist(Parent));

        var e = await Assert.ThrowsAsync<PoolUnavailableException>(() => Manager.DeleteAsync(Dataset, Ct));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Contains("zpool import", e.Message);
    }

    [Fact]
    public async Task Without_the_pool_delete_is_unavailable()
    {
        Runner.OnZfs("get").Fails("cannot open 'data/k8s/x': no such pool 'data'\n");

        var e = await Assert.ThrowsAnyAsync<ZfsCsiException>(() => Manager.DeleteAsync(Dataset, Ct));

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.DoesNotContain(Runner.Argv, a => a[0] == "destroy");
    }

    [Fact]
    public async Task A_volume_that_stays_busy_is_a_failed_precondition_after_every_attempt()
    {
        Runner.OnZfs(GetInventory(Dataset)).Returns(Ours());
        Runner.OnZfs("unmount").Returns();
        Runner.OnZfs("destroy").Fails("cannot destroy 'data/k8s/x': dataset is busy\n");
        Runner.OnZfs("mount").Returns();

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() => Manager.DeleteAsync(Dataset, Ct));

        Assert.Equal(Options.BusyAttempts, Runner.Argv.Count(a => a[0] == "destroy"));
        Assert.Contains("in use", e.Message);
        // Left as it was: mounted again, so its directory is still the volume's own.
        Assert.Equal(["mount", Dataset], Runner.Argv[^1]);
    }

    [Fact]
    public async Task A_volume_that_vanishes_before_the_destroy_is_deleted()
    {
        Runner.OnZfs(GetInventory(Dataset)).Returns(Ours());
        Runner.OnZfs("unmount").Returns();
        Runner.OnZfs("destroy").Fails(DoesNotExist(Dataset));
        ScriptEmptySweep();

        await Manager.DeleteAsync(Dataset, Ct);

        Assert.Contains(["destroy", "-r", Dataset], Runner.Argv);
    }
}
