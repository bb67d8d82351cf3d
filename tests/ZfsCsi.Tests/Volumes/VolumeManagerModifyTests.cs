using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

public sealed class VolumeManagerModifyTests : VolumeManagerHarness
{
    private const string G = "1073741824";

    private static MutableParameters M(params (string Key, string Value)[] pairs) =>
        MutableParameters.Parse(pairs.ToDictionary(p => p.Key, p => p.Value));

    private static string[] GetProps(params string[] properties) =>
        ["get", "-H", "-p", "-o", Columns, string.Join(',', properties), Dataset];

    private static string MutableRow(MutableParameters m) => Row(Dataset, Markers.Mutable, m.Encode(), "local");

    private static string[] SetMarker(MutableParameters m) => ["set", $"zfs-csi:mutable={m.Encode()}", Dataset];

    private IEnumerable<string[]> Sets => Runner.Argv.Where(a => a[0] == "set");

    [Fact]
    public async Task Properties_are_set_in_one_zfs_set_then_the_marker_records_them()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours());
        Runner
            .OnZfs(GetProps("atime", "compression"))
            .Returns(Row(Dataset, "atime", "on", "default") + Row(Dataset, "compression", "off", "default"));
        Runner.OnZfs("set").Returns();
        var m = M(("compression", "gzip"), ("atime", "off"));

        await Manager.ModifyAsync(Dataset, m, Ct);

        Assert.Equal(
            [
                GetVolume(Dataset),
                GetProps("atime", "compression"),
                ["set", "atime=off", "compression=gzip", Dataset],
                SetMarker(m),
            ],
            Runner.Argv
        );
    }

    [Fact]
    public async Task Where_zfs_takes_one_property_per_set_each_is_set_alone_and_the_next_modify_does_not_try_again()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours());
        Runner
            .OnZfs(GetProps("atime", "compression"))
            .Returns(Row(Dataset, "atime", "on", "default") + Row(Dataset, "compression", "off", "default"));
        Runner.OnZfs("set").Returns();
        Runner.OnZfs("set", "atime=off", "compression=gzip").Fails(ZfsFuseOutput.SetSecondPairIsNoDataset);
        var manager = Manager;
        var m = M(("compression", "gzip"), ("atime", "off"));

        await manager.ModifyAsync(Dataset, m, Ct);
        await manager.ModifyAsync(Dataset, m, Ct);

        var sets = Sets.Select(a => string.Join(' ', a)).ToList();
        Assert.Equal(
            [
                $"set atime=off compression=gzip {Dataset}",
                $"set atime=off {Dataset}",
                $"set compression=gzip {Dataset}",
                $"set zfs-csi:mutable={m.Encode()} {Dataset}",
                $"set atime=off {Dataset}",
                $"set compression=gzip {Dataset}",
                $"set zfs-csi:mutable={m.Encode()} {Dataset}",
            ],
            sets
        );
    }

    [Fact]
    public async Task A_retry_of_a_modify_that_is_done_sets_nothing()
    {
        var m = M(("compression", "gzip"), ("property.com.sun:auto-snapshot", "false"));
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours() + MutableRow(m));
        Runner
            .OnZfs(GetProps("com.sun:auto-snapshot", "compression"))
            .Returns(
                Row(Dataset, "com.sun:auto-snapshot", "false", "local") + Row(Dataset, "compression", "gzip", "local")
            );

        await Manager.ModifyAsync(Dataset, m, Ct);

        Assert.Empty(Sets);
    }

    [Fact]
    public async Task A_retry_after_a_crash_between_two_sets_sets_only_what_is_missing_and_then_the_marker()
    {
        var m = M(("compression", "gzip"), ("atime", "off"));
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours());
        Runner
            .OnZfs(GetProps("atime", "compression"))
            .Returns(Row(Dataset, "atime", "off", "local") + Row(Dataset, "compression", "off", "default"));
        Runner.OnZfs("set").Returns();

        await Manager.ModifyAsync(Dataset, m, Ct);

        Assert.Equal(
            [
                ["set", "compression=gzip", Dataset],
                SetMarker(m),
            ],
            Sets
        );
    }

    [Fact]
    public async Task Keys_the_request_does_not_name_keep_their_recorded_values_and_their_properties()
    {
        var recorded = M(("compression", "gzip"), ("atime", "off"));
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours() + MutableRow(recorded));
        Runner.OnZfs(GetProps("recordsize")).Returns(Row(Dataset, "recordsize", "131072", "default"));
        Runner.OnZfs("set").Returns();

        await Manager.ModifyAsync(Dataset, M(("recordsize", "16K")), Ct);

        Assert.Equal(
            [
                ["set", "recordsize=16K", Dataset],
                SetMarker(M(("compression", "gzip"), ("atime", "off"), ("recordsize", "16K"))),
            ],
            Sets
        );
    }

    [Fact]
    public async Task Thin_to_thick_reserves_the_capacity()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: GiB));
        Runner.OnZfs("set").Returns();

        await Manager.ModifyAsync(Dataset, M(("provisioning", "thick")), Ct);

        Assert.Equal(
            [
                ["set", $"refreservation={G}", Dataset],
                SetMarker(M(("provisioning", "thick"))),
            ],
            Sets
        );
    }

    [Fact]
    public async Task Thick_to_thin_releases_the_reservation()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: GiB, refreservation: GiB));
        Runner.OnZfs("set").Returns();

        await Manager.ModifyAsync(Dataset, M(("provisioning", "thin")), Ct);

        Assert.Equal(
            [
                ["set", "refreservation=none", Dataset],
                SetMarker(M(("provisioning", "thin"))),
            ],
            Sets
        );
    }

    [Fact]
    public async Task A_reservation_the_pool_cannot_hold_is_out_of_space_and_nothing_else_is_set()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: GiB));
        Runner.OnZfs(GetProps("compression")).Returns(Row(Dataset, "compression", "off", "default"));
        Runner.OnZfs("set").Returns();
        Runner.OnZfs("set", $"refreservation={G}").Fails(ZfsFuseOutput.ReservationGreaterThanAvailable);

        var e = await Assert.ThrowsAsync<OutOfSpaceException>(() =>
            Manager.ModifyAsync(Dataset, M(("provisioning", "thick"), ("compression", "gzip")), Ct)
        );

        Assert.Equal(ErrorKind.OutOfSpace, e.Kind);
        Assert.Equal(
            [
                ["set", $"refreservation={G}", Dataset],
            ],
            Sets
        );
    }

    [Fact]
    public async Task Refquota_to_quota_adds_the_quota_at_the_same_size_then_drops_the_refquota()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: GiB));
        Runner.OnZfs("set").Returns();

        await Manager.ModifyAsync(Dataset, M(("quotaType", "quota")), Ct);

        Assert.Equal(
            [
                ["set", $"quota={G}", Dataset],
                ["set", "refquota=none", Dataset],
                SetMarker(M(("quotaType", "quota"))),
            ],
            Sets
        );
    }

    [Fact]
    public async Task A_thick_volume_changing_quota_type_reserves_with_the_new_reservation_before_the_old_one_goes()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: GiB, refreservation: GiB));
        Runner.OnZfs("set").Returns();

        await Manager.ModifyAsync(Dataset, M(("quotaType", "quota")), Ct);

        Assert.Equal(
            [
                ["set", $"quota={G}", Dataset],
                ["set", $"reservation={G}", Dataset],
                ["set", "refreservation=none", Dataset],
                ["set", "refquota=none", Dataset],
                SetMarker(M(("quotaType", "quota"))),
            ],
            Sets
        );
    }

    [Fact]
    public async Task Quota_to_refquota_and_thick_that_the_pool_cannot_reserve_takes_the_new_quota_away_again()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: 0, quota: GiB));
        Runner.OnZfs("set").Returns();
        Runner.OnZfs("set", $"refreservation={G}").Fails(ZfsFuseOutput.ReservationGreaterThanAvailable);

        await Assert.ThrowsAsync<OutOfSpaceException>(() =>
            Manager.ModifyAsync(Dataset, M(("quotaType", "refquota"), ("provisioning", "thick")), Ct)
        );

        Assert.Equal(
            [
                ["set", $"refquota={G}", Dataset],
                ["set", $"refreservation={G}", Dataset],
                ["set", "refquota=none", Dataset],
            ],
            Sets
        );
    }

    [Fact]
    public async Task A_volume_whose_snapshots_already_exceed_its_capacity_cannot_change_to_quota_and_nothing_changes()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: GiB));
        Runner.OnZfs("set").Returns();
        Runner.OnZfs("set", $"quota={G}").Fails(ZfsFuseOutput.QuotaBelowUsage);

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            Manager.ModifyAsync(Dataset, M(("quotaType", "quota")), Ct)
        );

        Assert.Contains("snapshots", e.Message, StringComparison.Ordinal);
        Assert.Single(Sets);
    }

    [Fact]
    public async Task An_interrupted_quota_type_change_leaves_both_quotas_and_its_retry_only_drops_the_old_one()
    {
        // A crash after "set quota" of refquota -> quota: both hold the capacity; the released one reads 0 elsewhere.
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: GiB, quota: GiB));
        Runner.OnZfs("set").Returns();

        await Manager.ModifyAsync(Dataset, M(("quotaType", "quota")), Ct);

        Assert.Equal(
            [
                ["set", "refquota=none", Dataset],
                SetMarker(M(("quotaType", "quota"))),
            ],
            Sets
        );
    }

    [Fact]
    public async Task A_quota_released_with_none_reads_0_local_and_is_not_taken_for_the_capacity()
    {
        var rows = Ours(refquota: 0, quota: GiB)
            .Replace($"{Dataset}\trefquota\t0\tdefault", $"{Dataset}\trefquota\t0\tlocal", StringComparison.Ordinal);
        Runner.OnZfs(GetVolume(Dataset)).Returns(rows);

        var volume = await Manager.GetAsync(Dataset, Ct);

        Assert.Equal(GiB, volume.CapacityBytes);
    }

    [Fact]
    public async Task A_deleted_volume_kept_for_its_snapshots_cannot_be_modified()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(state: Markers.StateDeleted, mounted: false));

        await Assert.ThrowsAsync<NotFoundException>(() => Manager.ModifyAsync(Dataset, M(("compression", "gzip")), Ct));

        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
    }

    [Fact]
    public async Task A_volume_that_is_gone_is_not_found()
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetName("data/k8s")).Returns(Row("data/k8s", "name", "data/k8s", "-"));

        await Assert.ThrowsAsync<NotFoundException>(() => Manager.ModifyAsync(Dataset, M(("compression", "gzip")), Ct));

        Assert.Empty(Sets);
    }

    [Fact]
    public async Task The_root_mode_the_volume_was_made_with_is_accepted_and_changes_nothing()
    {
        var recorded = M(("rootMode", "0775"), ("compression", "gzip"));
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours() + MutableRow(recorded));
        Runner.OnZfs(GetProps("compression")).Returns(Row(Dataset, "compression", "gzip", "local"));

        await Manager.ModifyAsync(Dataset, M(("rootMode", "775"), ("compression", "gzip")), Ct);

        Assert.Empty(Sets);
    }

    [Theory]
    [InlineData("rootMode", "0700")]
    [InlineData("rootUid", "1000")]
    [InlineData("rootGid", "1000")]
    public async Task Another_root_owner_or_mode_is_invalid_and_nothing_is_set(string key, string value)
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours() + MutableRow(M(("rootMode", "0775"))));

        var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
            Manager.ModifyAsync(Dataset, M((key, value), ("compression", "gzip")), Ct)
        );

        Assert.Contains("from a pod", e.Message, StringComparison.Ordinal);
        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
    }
}
