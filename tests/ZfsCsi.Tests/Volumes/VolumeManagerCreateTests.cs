using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

public sealed class VolumeManagerCreateTests : VolumeManagerHarness
{
    private static readonly string EncodedName = Markers.EncodeName(Name);

    private void ScriptFreshCreate(Func<string> created)
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset)).Returns(created());
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZfs("create").Returns();
        Runner.OnZfs("set").Returns();
    }

    [Fact]
    public async Task A_fresh_volume_is_read_checked_created_once_with_every_property_read_back_and_marked_ready()
    {
        File.SetUnixFileMode(Mountpoint, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        ScriptFreshCreate(() => Ours(state: Markers.StateCreating));

        var volume = await Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct);

        Assert.Equal(
            [
                GetVolume(Dataset),
                GetCapacity(),
                [
                    "create",
                    "-o",
                    "refquota=1073741824",
                    "-o",
                    $"zfs-csi:name={EncodedName}",
                    "-o",
                    $"zfs-csi:parameters={VolumeParameters.Default.Digest}",
                    "-o",
                    "zfs-csi:state=creating",
                    Dataset,
                ],
                GetVolume(Dataset),
                ["set", "zfs-csi:state=ready", Dataset],
            ],
            Runner.Argv
        );
        Assert.Equal(Dataset, volume.Id.Value);
        Assert.Equal(GiB, volume.CapacityBytes);
        Assert.True(volume.Mounted);
        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(Mountpoint));
    }

    [Fact]
    public async Task A_thick_volume_reserves_its_capacity_in_the_same_create()
    {
        var parameters = VolumeParameters.Parse(new Dictionary<string, string> { ["provisioning"] = "thick" });
        ScriptFreshCreate(() =>
            Ours(state: Markers.StateCreating, refquota: 2 * GiB, refreservation: 2 * GiB, digest: parameters.Digest)
        );

        await Manager.CreateAsync(Name, new CapacityRange(2 * GiB, 0), parameters, Ct);

        var create = Assert.Single(Runner.Argv, a => a[0] == "create");
        Assert.Equal(
            [
                "create",
                "-o",
                "refquota=2147483648",
                "-o",
                "refreservation=2147483648",
                "-o",
                $"zfs-csi:name={EncodedName}",
                "-o",
                $"zfs-csi:parameters={parameters.Digest}",
                "-o",
                "zfs-csi:state=creating",
                Dataset,
            ],
            create
        );
    }

    [Fact]
    public async Task Quota_type_quota_sets_quota_and_reservation_instead()
    {
        var parameters = VolumeParameters.Parse(
            new Dictionary<string, string> { ["quotaType"] = "quota", ["provisioning"] = "thick" }
        );
        ScriptFreshCreate(() =>
            Ours(state: Markers.StateCreating, refquota: 0, quota: GiB, reservation: GiB, digest: parameters.Digest)
        );

        var volume = await Manager.CreateAsync(Name, CapacityRange.Unspecified, parameters, Ct);

        var create = Assert.Single(Runner.Argv, a => a[0] == "create");
        Assert.Equal(["create", "-o", "quota=1073741824", "-o", "reservation=1073741824"], create[..5]);
        Assert.DoesNotContain(create, a => a.StartsWith("ref", StringComparison.Ordinal));
        Assert.Equal(GiB, volume.CapacityBytes);
    }

    [Fact]
    public async Task Storage_class_properties_and_root_mode_go_into_the_same_create()
    {
        var parameters = VolumeParameters.Parse(
            new Dictionary<string, string>
            {
                ["compression"] = "lz4",
                ["property.logbias"] = "throughput",
                ["rootMode"] = "2770",
            }
        );
        ScriptFreshCreate(() => Ours(state: Markers.StateCreating, digest: parameters.Digest));

        await Manager.CreateAsync(Name, CapacityRange.Unspecified, parameters, Ct);

        var create = Assert.Single(Runner.Argv, a => a[0] == "create");
        Assert.Equal(
            [
                "create",
                "-o",
                "refquota=1073741824",
                "-o",
                "compression=lz4",
                "-o",
                "logbias=throughput",
                "-o",
                $"zfs-csi:name={EncodedName}",
                "-o",
                $"zfs-csi:parameters={parameters.Digest}",
                "-o",
                "zfs-csi:state=creating",
                Dataset,
            ],
            create
        );
        Assert.Equal((UnixFileMode)Convert.ToInt32("2770", 8), File.GetUnixFileMode(Mountpoint));
    }

    [Fact]
    public async Task A_name_that_is_not_plain_gets_a_hashed_dataset_and_keeps_its_name_in_the_marker()
    {
        const string name = "my volume/../\t$(x)";
        var dataset = "data/k8s/" + VolumeNaming.LeafFor(name);
        Runner
            .OnZfs(GetVolume(dataset))
            .Fails(DoesNotExist(dataset))
            .Returns(Ours(dataset, name, Markers.StateCreating));
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZfs("create").Returns();
        Runner.OnZfs("set").Returns();

        var volume = await Manager.CreateAsync(name, CapacityRange.Unspecified, VolumeParameters.Default, Ct);

        Assert.Matches("^data/k8s/h-[0-9a-f]{32}$", volume.Id.Value);
        var create = Assert.Single(Runner.Argv, a => a[0] == "create");
        Assert.Contains($"zfs-csi:name={Markers.EncodeName(name)}", create);
        Assert.All(Runner.Argv.SelectMany(a => a), a => Assert.DoesNotContain('\t', a));
    }

    [Fact]
    public async Task A_retry_of_a_ready_volume_with_the_same_request_runs_nothing_but_the_read()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours());

        var volume = await Manager.CreateAsync(Name, new CapacityRange(GiB, 0), VolumeParameters.Default, Ct);

        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
        Assert.Equal(GiB, volume.CapacityBytes);
    }

    [Fact]
    public async Task A_retry_with_a_range_the_volume_satisfies_is_idempotent()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: 3 * GiB));

        var volume = await Manager.CreateAsync(Name, new CapacityRange(2 * GiB, 4 * GiB), VolumeParameters.Default, Ct);

        Assert.Single(Runner.Argv);
        Assert.Equal(3 * GiB, volume.CapacityBytes);
    }

    [Theory]
    [InlineData(2L * 1024 * 1024 * 1024, 0)]
    [InlineData(0, 512L * 1024 * 1024)]
    public async Task An_existing_volume_of_another_capacity_already_exists(long required, long limit)
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(refquota: GiB));

        await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            Manager.CreateAsync(Name, new CapacityRange(required, limit), VolumeParameters.Default, Ct)
        );

        Assert.Single(Runner.Argv);
    }

    [Fact]
    public async Task An_existing_volume_with_other_parameters_already_exists()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours());
        var thick = VolumeParameters.Parse(new Dictionary<string, string> { ["provisioning"] = "thick" });

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            Manager.CreateAsync(Name, CapacityRange.Unspecified, thick, Ct)
        );

        Assert.Contains("parameters", e.Message);
        Assert.Single(Runner.Argv);
    }

    [Fact]
    public async Task A_dataset_we_did_not_create_already_exists_and_is_left_alone()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Foreign());

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );

        Assert.Contains("not created by zfs-csi", e.Message);
        Assert.Single(Runner.Argv);
    }

    [Fact]
    public async Task A_marker_only_inherited_from_the_parent_does_not_make_a_dataset_ours()
    {
        Runner
            .OnZfs(GetVolume(Dataset))
            .Returns(
                VolumeRows(
                    Dataset,
                    Name,
                    refquota: GiB,
                    mountpoint: Mountpoint,
                    markerSource: "inherited from data/k8s"
                )
            );

        await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );

        Assert.Single(Runner.Argv);
    }

    [Fact]
    public async Task A_dataset_marked_with_another_name_already_exists()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(name: "someone-else"));

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );

        Assert.Contains("someone-else", e.Message);
    }

    [Fact]
    public async Task A_creating_leftover_that_is_mounted_is_finished_not_recreated()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(state: Markers.StateCreating));
        Runner.OnZfs("set").Returns();

        var volume = await Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct);

        Assert.Equal([GetVolume(Dataset), ["set", "zfs-csi:state=ready", Dataset]], Runner.Argv);
        Assert.True(volume.Mounted);
    }

    [Fact]
    public async Task A_creating_leftover_that_is_not_mounted_is_mounted_then_marked_ready()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours(state: Markers.StateCreating, mounted: false));
        Runner.OnZfs("mount").Returns();
        Runner.OnZfs("set").Returns();

        var volume = await Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct);

        Assert.Equal([GetVolume(Dataset), ["mount", Dataset], ["set", "zfs-csi:state=ready", Dataset]], Runner.Argv);
        Assert.True(volume.Mounted);
    }

    [Fact]
    public async Task A_create_that_loses_a_race_reads_the_winner_and_finishes_it()
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset)).Returns(Ours(state: Markers.StateReady));
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZfs("create").Fails("cannot create 'data/k8s/x': dataset already exists\n");

        var volume = await Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct);

        Assert.Equal(["get", "get", "create", "get"], Runner.Argv.Select(a => a[0]));
        Assert.Equal(Dataset, volume.Id.Value);
    }

    [Fact]
    public async Task A_pool_without_room_is_out_of_space()
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetCapacity()).Returns(CapacityRows());
        Runner.OnZfs("create").Fails("cannot create 'data/k8s/x': out of space\n");

        var e = await Assert.ThrowsAsync<OutOfSpaceException>(() =>
            Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );

        Assert.Equal(ErrorKind.OutOfSpace, e.Kind);
    }

    [Fact]
    public async Task A_volume_larger_than_the_whole_pool_is_out_of_range_and_never_created()
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetCapacity()).Returns(ZfsFuseOutput.GetCapacity);

        await Assert.ThrowsAsync<CapacityOutOfRangeException>(() =>
            Manager.CreateAsync(Name, new CapacityRange(GiB, 0), VolumeParameters.Default, Ct)
        );

        Assert.DoesNotContain(Runner.Argv, a => a[0] == "create");
    }

    [Fact]
    public async Task Without_the_parent_dataset_create_is_unavailable_and_creates_nothing()
    {
        Runner.OnZfs(GetVolume(Dataset)).Fails(DoesNotExist(Dataset));
        Runner.OnZfs(GetCapacity()).Fails(DoesNotExist("data/k8s"));
        Runner.OnZfs(GetName("data/k8s")).Fails(DoesNotExist("data/k8s"));

        await Assert.ThrowsAsync<PoolUnavailableException>(() =>
            Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );

        Assert.DoesNotContain(Runner.Argv, a => a[0] == "create");
    }

    [Fact]
    public async Task A_bad_range_or_name_touches_nothing()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Manager.CreateAsync(Name, new CapacityRange(-1, 0), VolumeParameters.Default, Ct)
        );
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Manager.CreateAsync("", CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Manager.CreateAsync(new string('x', 129), CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );

        Assert.Empty(Runner.Calls);
    }

    [Fact]
    public async Task A_timeout_on_the_first_read_propagates()
    {
        Runner.OnZfs("get").TimesOut();

        await Assert.ThrowsAsync<Core.Exec.CommandTimeoutException>(() =>
            Manager.CreateAsync(Name, CapacityRange.Unspecified, VolumeParameters.Default, Ct)
        );
    }

    [Fact]
    public void The_dataset_for_a_name_is_the_parent_and_the_mapped_leaf()
    {
        Assert.Equal(DatasetName.Parse(Dataset), Manager.DatasetFor(Name));
    }

    [Fact]
    public async Task Mutable_parameters_given_at_creation_are_applied_by_the_same_create_and_recorded_in_it()
    {
        var mutable = MutableParameters.Parse(
            new Dictionary<string, string> { ["compression"] = "gzip", ["provisioning"] = "thick" }
        );
        ScriptFreshCreate(() => Ours(state: Markers.StateCreating, refquota: GiB, refreservation: GiB));

        await Manager.CreateAsync(Name, new CapacityRange(GiB, 0), VolumeParameters.Default, mutable, Ct);

        var create = Assert.Single(Runner.Argv, a => a[0] == "create");
        Assert.Equal(
            [
                "create",
                "-o",
                "refquota=1073741824",
                "-o",
                "refreservation=1073741824",
                "-o",
                "compression=gzip",
                "-o",
                $"zfs-csi:name={EncodedName}",
                "-o",
                $"zfs-csi:parameters={VolumeParameters.Default.Digest}",
                "-o",
                "zfs-csi:state=creating",
                "-o",
                $"zfs-csi:mutable={mutable.Encode()}",
                Dataset,
            ],
            create
        );
    }

    [Fact]
    public async Task A_retry_with_the_same_mutable_parameters_is_the_same_volume()
    {
        var mutable = MutableParameters.Parse(new Dictionary<string, string> { ["compression"] = "gzip" });
        Runner.OnZfs(GetVolume(Dataset)).Returns(Ours() + Row(Dataset, Markers.Mutable, mutable.Encode(), "local"));

        var volume = await Manager.CreateAsync(Name, new CapacityRange(GiB, 0), VolumeParameters.Default, mutable, Ct);

        Assert.Equal(Dataset, volume.Id.Value);
        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
    }

    [Theory]
    [InlineData(null, "compression=gzip")]
    [InlineData("compression=gzip", null)]
    [InlineData("compression=gzip", "compression=off")]
    public async Task A_retry_with_other_mutable_parameters_is_already_exists_and_changes_nothing(
        string? has,
        string? asked
    )
    {
        static MutableParameters Of(string? pair) =>
            pair is null
                ? MutableParameters.None
                : MutableParameters.Parse(new Dictionary<string, string> { [pair.Split('=')[0]] = pair.Split('=')[1] });
        Runner
            .OnZfs(GetVolume(Dataset))
            .Returns(Ours() + (has is null ? "" : Row(Dataset, Markers.Mutable, Of(has).Encode(), "local")));

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() =>
            Manager.CreateAsync(Name, new CapacityRange(GiB, 0), VolumeParameters.Default, Of(asked), Ct)
        );

        Assert.Contains("mutable parameters", e.Message, StringComparison.Ordinal);
        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
    }
}
