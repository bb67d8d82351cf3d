using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Zfs;

public sealed class ZfsClientTests : IDisposable
{
    private static readonly DatasetName Volume = DatasetName.Parse("data/k8s/pvc-1");
    private readonly FakeCommandRunner _runner = new();
    private readonly MountSerializer _mounts = new(lockFile: null);
    private readonly ZfsOptions _options = new()
    {
        CommandTimeout = TimeSpan.FromSeconds(7),
        BusyAttempts = 4,
        BusyRetryDelay = TimeSpan.FromMilliseconds(1),
    };

    private ZfsClient Client => new(_runner, _options, _mounts);

    public void Dispose() => _mounts.Dispose();

    [Fact]
    public async Task Destroy_unmounts_then_destroys()
    {
        _runner.OnZfs("unmount").Returns();
        _runner.OnZfs("destroy").Returns();

        await Client.DestroyAsync(Volume, CancellationToken.None);

        Assert.Equal(
            [
                ["unmount", "data/k8s/pvc-1"],
                ["destroy", "-r", "data/k8s/pvc-1"],
            ],
            _runner.Argv
        );
    }

    [Fact]
    public async Task Destroy_treats_not_currently_mounted_as_already_unmounted()
    {
        _runner.OnZfs("unmount").Fails(ZfsFuseOutput.NotCurrentlyMounted);
        _runner.OnZfs("destroy").Returns();

        await Client.DestroyAsync(Volume, CancellationToken.None);

        Assert.Equal(
            [
                ["unmount", "data/k8s/pvc-1"],
                ["destroy", "-r", "data/k8s/pvc-1"],
            ],
            _runner.Argv
        );
    }

    [Fact]
    public async Task Destroy_retries_busy_until_zfs_fuse_releases_the_mount()
    {
        _runner.OnZfs("unmount").Returns();
        _runner.OnZfs("destroy").Fails(ZfsFuseOutput.DatasetIsBusy).Fails(ZfsFuseOutput.DatasetIsBusy).Returns();

        await Client.DestroyAsync(Volume, CancellationToken.None);

        Assert.Equal(3, _runner.Argv.Count(a => a[0] == "destroy"));
    }

    [Fact]
    public async Task Destroy_gives_up_after_busy_attempts_with_dataset_busy()
    {
        _runner.OnZfs("unmount").Returns();
        _runner.OnZfs("mount").Returns();
        _runner.OnZfs("destroy").Fails(ZfsFuseOutput.DatasetIsBusy);

        var e = await Assert.ThrowsAsync<DatasetBusyException>(() =>
            Client.DestroyAsync(Volume, CancellationToken.None)
        );

        Assert.Equal(_options.BusyAttempts, _runner.Argv.Count(a => a[0] == "destroy"));
        Assert.Equal(ZfsFuseOutput.DatasetIsBusy, e.StandardError);
    }

    [Fact]
    public async Task An_unmount_that_stays_busy_never_reaches_destroy()
    {
        _runner.OnZfs("unmount").Fails("cannot unmount '/tmp/data/k8s/pvc-1': pool or dataset is busy\n");

        await Assert.ThrowsAsync<DatasetBusyException>(() => Client.DestroyAsync(Volume, CancellationToken.None));

        Assert.Equal(_options.BusyAttempts, _runner.Argv.Count);
        Assert.All(_runner.Argv, a => Assert.Equal("unmount", a[0]));
    }

    [Fact]
    public async Task A_destroy_refused_for_snapshots_leaves_the_dataset_mounted()
    {
        _runner.OnZfs("unmount").Returns();
        _runner.OnZfs("mount").Returns();
        _runner.OnZfs("destroy").Fails(ZfsFuseOutput.FilesystemHasChildren);

        await Assert.ThrowsAsync<DatasetHasDependentsException>(() =>
            Client.DestroyAsync(Volume, CancellationToken.None)
        );

        Assert.Equal(["mount", "data/k8s/pvc-1"], _runner.Argv[^1]);
    }

    [Fact]
    public async Task A_destroy_whose_caller_gave_up_after_the_unmount_still_mounts_the_dataset_again()
    {
        using var rpc = new CancellationTokenSource();
        _runner
            .OnZfs("unmount")
            .Does(
                (_, _) =>
                {
                    rpc.Cancel();
                    return Task.FromResult(new CommandResult(0, "", "", TimeSpan.Zero));
                }
            );
        _runner.OnZfs("mount").Returns();
        _runner.OnZfs("destroy").Returns();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client.DestroyAsync(Volume, rpc.Token));

        Assert.Equal(["mount", "data/k8s/pvc-1"], _runner.Argv[^1]);
    }

    [Fact]
    public async Task Destroy_of_a_missing_dataset_says_not_found()
    {
        _runner.OnZfs("unmount").Fails(ZfsScript.DoesNotExist("data/k8s/pvc-1"));

        await Assert.ThrowsAsync<DatasetNotFoundException>(() => Client.DestroyAsync(Volume, CancellationToken.None));
    }

    [Fact]
    public async Task Try_get_returns_null_when_the_dataset_does_not_exist()
    {
        _runner.OnZfs("get").Fails(ZfsFuseOutput.DatasetDoesNotExist);

        Assert.Null(await Client.TryGetAsync(Volume, ["refquota"], CancellationToken.None));
    }

    [Fact]
    public async Task Try_get_returns_the_properties_of_the_dataset()
    {
        _runner.OnZfs("get").Returns(ZfsFuseOutput.GetVolume);

        var props = await Client.TryGetAsync(Volume, ["zfs-csi:name", "refquota"], CancellationToken.None);

        Assert.NotNull(props);
        Assert.Equal(1073741824, props.Bytes("refquota"));
        Assert.Equal(
            ["get", "-H", "-p", "-o", "name,property,value,source", "zfs-csi:name,refquota", "data/k8s/pvc-1"],
            _runner.Argv.Single()
        );
    }

    [Fact]
    public async Task Try_get_does_not_hide_a_missing_pool()
    {
        _runner.OnZfs("get").Fails("cannot open 'data/k8s/pvc-1': no such pool 'data'\n");

        await Assert.ThrowsAsync<ZfsPoolUnavailableException>(() =>
            Client.TryGetAsync(Volume, ["refquota"], CancellationToken.None)
        );
    }

    [Fact]
    public async Task Children_are_read_in_one_process_without_the_parent_or_snapshots()
    {
        _runner.OnZfs("get").Returns(ZfsFuseOutput.GetRecursive);

        var children = await Client.GetChildrenAsync(
            DatasetName.Parse("data/k8s"),
            ["refquota"],
            CancellationToken.None
        );

        Assert.Equal(["data/k8s/foreign", "data/k8s/pvc-1"], children.Select(c => c.Name));
        Assert.Equal(
            ["get", "-H", "-p", "-d", "1", "-o", "name,property,value,source", "refquota", "data/k8s"],
            _runner.Argv.Single()
        );
    }

    [Fact]
    public async Task Pool_health_comes_from_zpool_list()
    {
        _runner.OnZpool("list").Returns(ZfsFuseOutput.ZpoolList);

        var health = await Client.GetPoolHealthAsync(CancellationToken.None);

        Assert.Equal("ONLINE", health["data"]);
        Assert.Equal(new CommandLine("zpool", "list", "-H", "-o", "name,health"), _runner.Commands.Single());
    }

    [Fact]
    public async Task A_timeout_propagates_as_command_timeout()
    {
        _runner.OnZfs("get").TimesOut();

        var e = await Assert.ThrowsAsync<CommandTimeoutException>(() =>
            Client.TryGetAsync(Volume, ["refquota"], CancellationToken.None)
        );

        Assert.Equal(_options.CommandTimeout, e.Timeout);
        Assert.Equal("zfs", e.Command.Program);
    }

    [Fact]
    public async Task A_timeout_while_destroying_is_not_retried_and_the_dataset_is_mounted_again()
    {
        _runner.OnZfs("unmount").Returns();
        _runner.OnZfs("mount").Returns();
        _runner.OnZfs("destroy").TimesOut();

        await Assert.ThrowsAsync<CommandTimeoutException>(() => Client.DestroyAsync(Volume, CancellationToken.None));

        Assert.Single(_runner.Argv, a => a[0] == "destroy");
        Assert.Equal(["mount", "data/k8s/pvc-1"], _runner.Argv[^1]);
    }

    [Fact]
    public async Task Every_command_carries_the_configured_timeout_and_programs()
    {
        _options.ZfsCommand = "/usr/sbin/zfs";
        _options.ZpoolCommand = "/usr/sbin/zpool";
        _runner.On("/usr/sbin/zfs", "get").Returns(ZfsFuseOutput.GetVolume);
        _runner.On("/usr/sbin/zfs").Returns();
        _runner.On("/usr/sbin/zpool").Returns(ZfsFuseOutput.ZpoolList);
        var ct = CancellationToken.None;

        await Client.TryGetAsync(Volume, ["refquota"], ct);
        await Client.GetChildrenAsync(DatasetName.Parse("data/k8s"), ["refquota"], ct);
        await Client.CreateAsync(Volume, [new("refquota", "1048576")], ct);
        await Client.CreateWithParentsAsync(DatasetName.Parse("data/k8s"), ct);
        await Client.SetAsync(Volume, "refquota", "2097152", ct);
        await Client.MountAsync(Volume, ct);
        await Client.DestroyAsync(Volume, ct);
        await Client.GetPoolHealthAsync(ct);

        Assert.Equal(9, _runner.Calls.Count);
        Assert.All(_runner.Calls, c => Assert.Equal(TimeSpan.FromSeconds(7), c.Timeout));
        Assert.All(_runner.Calls, c => Assert.StartsWith("/usr/sbin/", c.Command.Program));
    }

    [Fact]
    public async Task A_failed_set_is_classified()
    {
        _runner.OnZfs("set").Fails(ZfsFuseOutput.QuotaBelowUsage);

        await Assert.ThrowsAsync<ZfsQuotaBelowUsageException>(() =>
            Client.SetAsync(Volume, "refquota", "65536", CancellationToken.None)
        );
    }

    [Fact]
    public async Task Create_of_an_existing_dataset_says_it_exists()
    {
        _runner.OnZfs("create").Fails(ZfsFuseOutput.DatasetAlreadyExists);

        await Assert.ThrowsAsync<DatasetExistsException>(() => Client.CreateAsync(Volume, [], CancellationToken.None));
    }

    [Fact]
    public async Task Mount_causing_commands_run_one_at_a_time()
    {
        var inFlight = 0;
        var maxInFlight = 0;
        _runner
            .OnZfs("create")
            .Does(
                async (_, _) =>
                {
                    var now = Interlocked.Increment(ref inFlight);
                    InterlockedMax(ref maxInFlight, now);
                    await Task.Delay(5);
                    Interlocked.Decrement(ref inFlight);
                    return new CommandResult(0, "", "", TimeSpan.FromMilliseconds(5));
                }
            );

        await Task.WhenAll(
            Enumerable
                .Range(0, 8)
                .Select(i =>
                    Task.Run(() => Client.CreateAsync(DatasetName.Parse($"data/k8s/v{i}"), [], CancellationToken.None))
                )
        );

        Assert.Equal(1, maxInFlight);
        Assert.Equal(8, _runner.Calls.Count);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (
            (seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen
        ) { }
    }
}
