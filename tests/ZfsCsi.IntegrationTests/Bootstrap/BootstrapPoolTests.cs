using System.Net;
using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Bootstrap;

namespace ZfsCsi.IntegrationTests.Bootstrap;

/// <summary>
/// The pool path on real zfs-fuse, with the driver gated by the bootstrap's status file. Each test
/// has its own pool and driver (they export, import and degrade it); export and import run under
/// the machine-wide mount lock.
/// </summary>
public sealed class BootstrapPoolTests : IAsyncLifetime
{
    private readonly GatedDriver _driver = new();

    public Task InitializeAsync() => _driver.InitializeAsync();

    public Task DisposeAsync() => _driver.DisposeAsync();

    [Fact]
    public async Task An_exported_pool_is_imported_by_the_bootstrap_and_Probe_flips_from_false_to_true()
    {
        await _driver.ExportAsync();
        Assert.False(await _driver.ProbeAsync());
        var (code, body) = await _driver.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Contains("bootstrap has not reported yet", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _driver.GetAsync("/healthz")).Code);

        using var bootstrap = _driver.NewBootstrapper(_driver.BootstrapOptions());
        var exitCode = await bootstrap.RunOnceAsync(CancellationToken.None);

        Assert.Equal(0, exitCode);
        Assert.Equal("ONLINE", await _driver.HealthAsync());
        var status = await _driver.StatusAsync();
        Assert.Equal(BootstrapState.Ready, status!.State);
        Assert.Equal("ONLINE", status.PoolHealth);
        Assert.True(await _driver.ProbeAsync());
        (code, body) = await _driver.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Contains($"pool {_driver.Pool.Name} is ONLINE", body, StringComparison.Ordinal);
        Assert.Contains(_driver.BootstrapLogs.Rendered, m =>
            m.Contains("Step \"zpool import\" done", StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task A_driver_gated_by_the_bootstrap_runs_no_zfs_command_until_the_bootstrap_is_ready()
    {
        // On OpenZFS any zfs or zpool command loads the zfs module (it opens /dev/zfs): loading it is
        // the bootstrap's job, after it checked the module's release. Start-up and a not-ready Probe
        // must leave ZFS alone; the first Probe after the bootstrap reported ready goes to ZFS.
        await _driver.ExportAsync();
        Assert.False(File.Exists(_driver.StatusFile), "the bootstrap has run already");
        Assert.False(await _driver.ProbeAsync());
        // An RPC that needs ZFS meanwhile (a CO does not wait for Probe) is UNAVAILABLE, and says why.
        var early = await Assert.ThrowsAsync<RpcException>(async () =>
            await _driver.Client.Controller.CreateVolumeAsync(
                new CreateVolumeRequest
                {
                    Name = "pvc-before-bootstrap",
                    VolumeCapabilities =
                    {
                        new VolumeCapability
                        {
                            Mount = new(),
                            AccessMode = new() { Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter },
                        },
                    },
                }
            )
        );
        Assert.Equal(StatusCode.Unavailable, early.StatusCode);
        Assert.Contains("bootstrap has not reported yet", early.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(_driver.Commands.Commands, c =>
            c.Program.EndsWith("zfs", StringComparison.Ordinal) || c.Program.EndsWith("zpool", StringComparison.Ordinal)
        );

        using var bootstrap = _driver.NewBootstrapper(_driver.BootstrapOptions());
        Assert.Equal(0, await bootstrap.RunOnceAsync(CancellationToken.None));

        Assert.True(await _driver.ProbeAsync());
        Assert.Contains(_driver.Commands.Commands, c => c.Program.EndsWith("zpool", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pool_exported_while_the_driver_runs_drops_readiness_and_the_watching_bootstrap_brings_it_back()
    {
        using var bootstrap = _driver.NewBootstrapper(_driver.BootstrapOptions("watch", "--interval", "2"));
        using var stop = new CancellationTokenSource();
        var watching = bootstrap.WatchAsync(stop.Token);
        var states = new System.Collections.Concurrent.ConcurrentQueue<BootstrapState>();
        var recording = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (await _driver.StatusAsync() is { } s)
                    {
                        states.Enqueue(s.State);
                    }
                }
                catch (IOException) { }
                await Task.Delay(10);
            }
        });
        try
        {
            Assert.True(
                await GatedDriver.EventuallyAsync(_driver.ProbeAsync, TimeSpan.FromSeconds(30)),
                "Probe never became ready while the pool was imported"
            );
            states.Clear();

            await _driver.ExportAsync();
            var dropped = await GatedDriver.EventuallyAsync(
                async () => !await _driver.ProbeAsync(),
                TimeSpan.FromSeconds(10),
                TimeSpan.FromMilliseconds(20)
            );
            Assert.True(dropped, "readiness did not drop after the pool was exported");

            Assert.True(
                await GatedDriver.EventuallyAsync(_driver.ProbeAsync, TimeSpan.FromSeconds(60)),
                "readiness did not come back"
            );
            Assert.Contains(BootstrapState.Importing, states);
            Assert.Equal(BootstrapState.Ready, states.Last());
            Assert.Equal("ONLINE", await _driver.HealthAsync());
            Assert.Contains(_driver.BootstrapLogs.Rendered, m => m.Contains("Imported pool", StringComparison.Ordinal));
            var status = await _driver.StatusAsync();
            Assert.True(status!.Watching);
            Assert.True(DateTimeOffset.UtcNow - status.Heartbeat < TimeSpan.FromSeconds(10));
            Assert.Equal(HttpStatusCode.OK, (await _driver.GetAsync("/healthz")).Code);
        }
        finally
        {
            await stop.CancelAsync();
            await watching;
            await recording;
        }
    }

    [Fact]
    public async Task A_pool_that_does_not_exist_fails_with_a_message_naming_the_pool_and_where_it_looked()
    {
        var missing = $"zcsitnope{Environment.ProcessId}";
        using var bootstrap = _driver.NewBootstrapper(
            ZfsCsi.Bootstrap.BootstrapOptions.Parse([
                "once",
                "--module",
                "none",
                "--pool",
                missing,
                "--import-dir",
                _driver.Pool.VdevDirectory,
                "--status-file",
                _driver.StatusFile,
                "--mount-lock-file",
                ZfsCsi.IntegrationTests.Infrastructure.TestPool.LockFile,
                "--command-timeout",
                "20",
            ])
        );

        var exitCode = await bootstrap.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, exitCode);
        var status = await _driver.StatusAsync();
        Assert.Equal(BootstrapState.Failed, status!.State);
        Assert.Contains(
            $"pool '{missing}' was not found in {_driver.Pool.VdevDirectory}",
            status.Reason,
            StringComparison.Ordinal
        );
        Assert.Contains("check --pool and --import-dir", status.Reason, StringComparison.Ordinal);
        Assert.False(await _driver.ProbeAsync());
    }

    [Fact]
    public async Task A_mirror_with_one_disk_gone_is_reported_DEGRADED_and_not_ready_unless_allowed()
    {
        await _driver.ExportAsync();
        var removed = Path.Combine(_driver.Pool.VdevDirectory, "removed");
        Directory.CreateDirectory(removed);
        File.Move(_driver.Pool.Vdevs[1], Path.Combine(removed, "disk2"));

        using (var bootstrap = _driver.NewBootstrapper(_driver.BootstrapOptions()))
        {
            Assert.Equal(1, await bootstrap.RunOnceAsync(CancellationToken.None));
        }

        Assert.Equal("DEGRADED", await _driver.HealthAsync());
        var status = await _driver.StatusAsync();
        Assert.Equal(BootstrapState.Failed, status!.State);
        Assert.Equal("DEGRADED", status.PoolHealth);
        Assert.Contains($"pool {_driver.Pool.Name} is DEGRADED", status.Reason, StringComparison.Ordinal);
        Assert.Contains($"was {_driver.Pool.Vdevs[1]}", status.Reason, StringComparison.Ordinal);
        Assert.False(await _driver.ProbeAsync());

        using (var bootstrap = _driver.NewBootstrapper(_driver.BootstrapOptions("once", "--allow-degraded")))
        {
            Assert.Equal(0, await bootstrap.RunOnceAsync(CancellationToken.None));
        }
        Assert.True(await _driver.ProbeAsync());
    }
}
