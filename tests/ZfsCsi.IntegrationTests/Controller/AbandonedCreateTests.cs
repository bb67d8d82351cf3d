using Serilog;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Snapshots;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>A clock the test moves: zfs's <c>creation</c> cannot be faked, so the sweep's "now" is.</summary>
public sealed class TestClock : TimeProvider
{
    public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// The Core's volume and snapshot managers on a real zfs-fuse pool of their own, with the driver's
/// own lock class and a clock the test moves.
/// </summary>
public sealed class SweepFixture : IAsyncLifetime
{
    public TestPool Pool { get; } = new();
    public TestClock Clock { get; } = new();
    public OperationLocks Locks { get; } = new();
    public InMemorySink Logs { get; } = new();
    public VolumeManager Volumes { get; private set; } = null!;
    public SnapshotManager Snapshots { get; private set; } = null!;
    private MountSerializer? _mounts;

    public async Task InitializeAsync()
    {
        await Pool.InitializeAsync();
        var logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(Logs).CreateLogger();
        _mounts = new MountSerializer(TestPool.LockFile, TimeSpan.FromMinutes(2));
        var zfs = new ZfsClient(
            new CliWrapCommandRunner(logger),
            new ZfsOptions { CommandTimeout = TimeSpan.FromSeconds(20) },
            _mounts
        );
        Volumes = new VolumeManager(
            zfs,
            new VolumeOptions { ParentDataset = Pool.Parent },
            logger,
            new SweepRequests(),
            Locks,
            Clock
        );
        Snapshots = new SnapshotManager(zfs, Volumes, logger);
    }

    public async Task DisposeAsync()
    {
        await Pool.DisposeAsync();
        _mounts?.Dispose();
    }

    public string DatasetOf(string name) => $"{Pool.Parent}/{name}";

    /// <summary>What a CreateVolume that died right after its one `zfs create` (or `zfs clone`) leaves.</summary>
    public Task<string> HalfMadeAsync(string name, string? cloneOf = null, bool thick = false)
    {
        string[] properties =
        [
            "-o",
            $"refquota={8 * MiB}",
            .. thick ? new[] { "-o", $"refreservation={8 * MiB}" } : [],
            "-o",
            $"{Markers.CsiName}={Markers.EncodeName(name)}",
            "-o",
            $"{Markers.ParametersDigest}={VolumeParameters.Default.Digest}",
            "-o",
            $"{Markers.State}={Markers.StateCreating}",
        ];
        string[] argv = cloneOf is null
            ? ["create", .. properties, DatasetOf(name)]
            : ["clone", .. properties, cloneOf, DatasetOf(name)];
        return TestPool.WithMountLockAsync(() => Sh.CheckAsync("zfs", argv));
    }

    public async Task<long> CreationAsync(string dataset) =>
        long.Parse((await Sh.CheckAsync("zfs", "get", "-H", "-p", "-o", "value", "creation", dataset)).Trim());

    public async Task<IReadOnlyList<string>> NamesAsync() =>
        (await Sh.CheckAsync("zfs", "get", "-r", "-H", "-o", "name", "name", Pool.Name)).Split(
            '\n',
            StringSplitOptions.RemoveEmptyEntries
        );

    /// <summary>Moves the sweep's clock to just past the grace of a dataset made at <paramref name="createdUnixSeconds"/>.</summary>
    public void PastGraceOf(long createdUnixSeconds) =>
        Clock.Now =
            DateTimeOffset.FromUnixTimeSeconds(createdUnixSeconds)
            + new VolumeOptions().CreatingGrace
            + TimeSpan.FromSeconds(1);
}

/// <summary>
/// Half-made volumes that no retry comes for (the CO gave up: the PVC was deleted, so no
/// DeleteVolume will ever name them) are destroyed by the sweep once the grace is over, never
/// earlier, never under a running retry, never when something depends on them.
/// </summary>
public sealed class AbandonedCreateTests(SweepFixture pool) : IClassFixture<SweepFixture>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task The_sweep_destroys_a_half_made_volume_older_than_the_grace_and_keeps_fresh_and_ready_ones()
    {
        var (old, ready, fresh) = (Unique("pvc-old"), Unique("pvc-ready"), Unique("pvc-fresh"));
        await pool.HalfMadeAsync(old, thick: true);
        var readyId = (
            await pool.Volumes.CreateAsync(ready, new CapacityRange(8 * MiB, 0), VolumeParameters.Default, Ct)
        )
            .Id
            .Value;
        var oldCreated = await pool.CreationAsync(pool.DatasetOf(old));
        // creation has one-second resolution: the fresh one must be visibly younger.
        while (DateTimeOffset.UtcNow.ToUnixTimeSeconds() < oldCreated + 2)
        {
            await Task.Delay(200);
        }
        await pool.HalfMadeAsync(fresh);
        var freshCreated = await pool.CreationAsync(pool.DatasetOf(fresh));
        var availableBefore = long.Parse(
            await Sh.CheckAsync("zfs", "get", "-H", "-p", "-o", "value", "available", pool.Pool.Parent)
        );

        // Exactly the grace after the fresh one: it is not past it, the old one is.
        pool.Clock.Now = DateTimeOffset.FromUnixTimeSeconds(freshCreated) + new VolumeOptions().CreatingGrace;
        await pool.Volumes.SweepAsync(Ct);

        var names = await pool.NamesAsync();
        Assert.DoesNotContain(pool.DatasetOf(old), names);
        Assert.Contains(pool.DatasetOf(fresh), names);
        Assert.Contains(readyId, names);
        // The thick half-made volume's reservation went with it.
        Assert.True(
            long.Parse(await Sh.CheckAsync("zfs", "get", "-H", "-p", "-o", "value", "available", pool.Pool.Parent))
                >= availableBefore + 7 * MiB
        );
        Assert.Contains(pool.Logs.Rendered, m => m.Contains("half-made") && m.Contains(old));

        // Later on, the fresh one is past its grace too; a ready volume never is anything but a volume.
        pool.PastGraceOf(freshCreated);
        await pool.Volumes.SweepAsync(Ct);
        names = await pool.NamesAsync();
        Assert.DoesNotContain(pool.DatasetOf(fresh), names);
        Assert.Contains(readyId, names);
        Assert.Equal(readyId, (await pool.Volumes.GetAsync(readyId, Ct)).Id.Value);
        await pool.Volumes.DeleteAsync(readyId, Ct);
    }

    [Fact]
    public async Task A_half_made_volume_whose_name_is_locked_by_a_running_retry_is_left_to_it()
    {
        var name = Unique("pvc-locked");
        var dataset = pool.DatasetOf(name);
        await pool.HalfMadeAsync(name);
        pool.PastGraceOf(await pool.CreationAsync(dataset));

        using (pool.Locks.Acquire(dataset))
        {
            await pool.Volumes.SweepAsync(Ct);
            Assert.Contains(dataset, await pool.NamesAsync());
        }
        await pool.Volumes.SweepAsync(Ct);
        Assert.DoesNotContain(dataset, await pool.NamesAsync());
    }

    [Fact]
    public async Task A_retry_that_finished_the_volume_before_the_sweep_took_the_lock_keeps_it()
    {
        var name = Unique("pvc-finished");
        var dataset = pool.DatasetOf(name);
        await pool.HalfMadeAsync(name);
        pool.PastGraceOf(await pool.CreationAsync(dataset));

        // The retry the CO sent late: it finishes the half-made dataset (state ready), and the sweep must not touch it.
        var volume = await pool.Volumes.CreateAsync(name, new CapacityRange(8 * MiB, 0), VolumeParameters.Default, Ct);
        await pool.Volumes.SweepAsync(Ct);

        Assert.Equal(dataset, volume.Id.Value);
        Assert.Equal("ready", (await Sh.CheckAsync("zfs", "get", "-H", "-o", "value", Markers.State, dataset)).Trim());
        await pool.Volumes.DeleteAsync(dataset, Ct);
    }

    [Fact]
    public async Task An_abandoned_half_made_clone_is_destroyed_and_its_snapshot_is_no_longer_pinned()
    {
        var (source, clone) = (Unique("pvc-origin"), Unique("pvc-halfclone"));
        var volume = await pool.Volumes.CreateAsync(
            source,
            new CapacityRange(8 * MiB, 0),
            VolumeParameters.Default,
            Ct
        );
        var snapshot = await pool.Snapshots.CreateAsync(
            Unique("snapshot-origin"),
            volume.Id.Value,
            new Dictionary<string, string>(),
            Ct
        );
        await pool.HalfMadeAsync(clone, cloneOf: snapshot.Id.Value);
        pool.PastGraceOf(await pool.CreationAsync(pool.DatasetOf(clone)));

        await pool.Volumes.SweepAsync(Ct);
        Assert.DoesNotContain(pool.DatasetOf(clone), await pool.NamesAsync());

        // Nothing depends on the snapshot any more: it goes at once, and so does its volume.
        await pool.Snapshots.DeleteAsync(snapshot.Id.Value, Ct);
        Assert.DoesNotContain(snapshot.Id.Value, await pool.NamesAsync());
        await pool.Volumes.DeleteAsync(volume.Id.Value, Ct);
        Assert.DoesNotContain(await pool.NamesAsync(), n => n.StartsWith(volume.Id.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_half_made_volume_that_a_clone_made_by_hand_depends_on_is_kept_mounted()
    {
        var name = Unique("pvc-pinned");
        var dataset = pool.DatasetOf(name);
        var handClone = $"{pool.Pool.Name}/hand-clone-{Guid.NewGuid():N}"[..40];
        await pool.HalfMadeAsync(name);
        await Sh.CheckAsync("zfs", "snapshot", $"{dataset}@by-hand");
        await TestPool.WithMountLockAsync(() => Sh.CheckAsync("zfs", "clone", $"{dataset}@by-hand", handClone));
        try
        {
            pool.PastGraceOf(await pool.CreationAsync(dataset));
            await pool.Volumes.SweepAsync(Ct);

            Assert.Contains(dataset, await pool.NamesAsync());
            Assert.Equal("yes", (await Sh.CheckAsync("zfs", "get", "-H", "-o", "value", "mounted", dataset)).Trim());
            Assert.Contains(pool.Logs.Rendered, m =>
                m.Contains("cannot") && m.Contains("destroy abandoned half-made volume") && m.Contains(name)
            );
        }
        finally
        {
            await DestroyByHandAsync(handClone);
        }
        // Once the clone made by hand is gone, the next sweep finishes the job.
        await pool.Volumes.SweepAsync(Ct);
        Assert.DoesNotContain(dataset, await pool.NamesAsync());
    }

    [Fact]
    public async Task A_half_made_volume_holding_a_dataset_made_by_hand_is_kept()
    {
        var name = Unique("pvc-holds");
        var dataset = pool.DatasetOf(name);
        await pool.HalfMadeAsync(name);
        await TestPool.WithMountLockAsync(() => Sh.CheckAsync("zfs", "create", $"{dataset}/admin"));
        pool.PastGraceOf(await pool.CreationAsync(dataset));

        await pool.Volumes.SweepAsync(Ct);

        Assert.Contains($"{dataset}/admin", await pool.NamesAsync());
        await DestroyByHandAsync($"{dataset}/admin");
        await pool.Volumes.SweepAsync(Ct);
        Assert.DoesNotContain(dataset, await pool.NamesAsync());
    }

    /// <summary>zfs-fuse calls a fresh mount busy for a moment: unmount and destroy, retried as the driver does.</summary>
    private static async Task DestroyByHandAsync(string dataset)
    {
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var destroyed = await TestPool.WithMountLockAsync(async () =>
            {
                await Sh.RunAsync("zfs", "unmount", dataset);
                return (await Sh.RunAsync("zfs", "destroy", dataset)).ExitCode == 0;
            });
            if (destroyed)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"could not destroy {dataset}");
    }
}
