using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

/// <summary>
/// A thick volume whose quota grew but whose reservation did not (a crash or timeout between the
/// expansion's two zfs sets): every ControllerExpandVolume call makes the reservation catch up.
/// </summary>
public sealed class VolumeManagerExpandConvergenceTests : VolumeManagerHarness
{
    [Theory]
    [InlineData(2L)]
    [InlineData(1L)]
    public async Task A_lagging_reservation_is_raised_to_the_quota_even_when_the_volume_is_big_enough(long requestedGiB)
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: 2 * GiB, refreservation: GiB));
        Runner.OnZfs("set").Returns();

        var capacity = await Manager.ExpandAsync(Dataset, new CapacityRange(requestedGiB * GiB, 0), Ct);

        Assert.Equal(2 * GiB, capacity);
        Assert.Equal([GetVolume(Dataset), ["set", "refreservation=2147483648", Dataset]], Runner.Argv);
    }

    [Fact]
    public async Task A_quota_type_volume_catches_up_its_reservation()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: 0, quota: 2 * GiB, reservation: GiB));
        Runner.OnZfs("set").Returns();

        await Manager.ExpandAsync(Dataset, new CapacityRange(2 * GiB, 0), Ct);

        Assert.Equal([GetVolume(Dataset), ["set", "reservation=2147483648", Dataset]], Runner.Argv);
    }

    [Fact]
    public async Task A_thick_volume_in_step_and_a_thin_one_need_no_set()
    {
        Runner
            .OnZfs(GetVolume(Dataset))
            .Returns(Ours(refquota: 2 * GiB, refreservation: 2 * GiB))
            .Returns(Ours(refquota: 2 * GiB));

        await Manager.ExpandAsync(Dataset, new CapacityRange(2 * GiB, 0), Ct);
        await Manager.ExpandAsync(Dataset, new CapacityRange(2 * GiB, 0), Ct);

        Assert.DoesNotContain(Runner.Argv, a => a[0] == "set");
    }

    [Fact]
    public async Task A_lagging_reservation_the_pool_cannot_hold_is_out_of_space_and_the_quota_is_never_lowered()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: 2 * GiB, refreservation: GiB));
        Runner.OnZfs("set").Fails(Fakes.ZfsFuseOutput.ReservationGreaterThanAvailable);

        var e = await Assert.ThrowsAsync<OutOfSpaceException>(() =>
            Manager.ExpandAsync(Dataset, new CapacityRange(2 * GiB, 0), Ct)
        );

        Assert.Equal(ErrorKind.OutOfSpace, e.Kind);
        Assert.Contains("interrupted expansion", e.Message);
        Assert.Equal([GetVolume(Dataset), ["set", "refreservation=2147483648", Dataset]], Runner.Argv);
    }

    [Fact]
    public async Task A_timeout_while_catching_up_stays_a_timeout()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: 2 * GiB, refreservation: GiB));
        Runner.OnZfs("set").TimesOut();

        var e = await Assert.ThrowsAnyAsync<ZfsCsiException>(() =>
            Manager.ExpandAsync(Dataset, new CapacityRange(2 * GiB, 0), Ct)
        );

        Assert.Equal(ErrorKind.Timeout, e.Kind);
    }

    [Fact]
    public async Task Growing_a_lagging_volume_sets_both_to_the_new_size()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: 2 * GiB, refreservation: GiB));
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZfs("set").Returns();

        Assert.Equal(3 * GiB, await Manager.ExpandAsync(Dataset, new CapacityRange(3 * GiB, 0), Ct));

        Assert.Equal(
            [
                ["set", "refquota=3221225472", Dataset],
                ["set", "refreservation=3221225472", Dataset],
            ],
            Runner.Argv.Where(a => a[0] == "set")
        );
    }
}
