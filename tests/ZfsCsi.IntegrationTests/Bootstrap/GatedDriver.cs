using System.Net;
using System.Net.Sockets;
using Csi.V1;
using Serilog;
using ZfsCsi.Bootstrap;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.IntegrationTests.Bootstrap;

/// <summary>
/// The controller on a real zfs-fuse pool of its own, gated by a bootstrap status file
/// (--bootstrap-status-file) and serving /readyz and /healthz on a free local port; helpers to run
/// the bootstrap in this process against the same pool, and to export and import it under the
/// machine-wide mount lock.
/// </summary>
public sealed class GatedDriver : DriverFixture
{
    public string StateDirectory { get; } = Path.Combine("/tmp/zfs-csi-tests", $"bootstrap-{Guid.NewGuid():N}");
    public string StatusFile => Path.Combine(StateDirectory, "bootstrap.json");
    public int HealthPort { get; } = FreePort();
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };
    public InMemorySink BootstrapLogs { get; } = new();

    protected override IEnumerable<string> ExtraArgs =>
        [
            "--mode",
            "controller",
            "--bootstrap-status-file",
            StatusFile,
            "--bootstrap-stale-after",
            "20",
            "--health-port",
            HealthPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];

    public override async Task DisposeAsync()
    {
        Http.Dispose();
        try
        {
            // Destroy needs the pool imported: a test that failed with it exported must not leave it behind.
            if (!await IsImportedAsync())
            {
                await TestPool.WithMountLockAsync(() =>
                    Sh.RunAsync("zpool", "import", "-d", Pool.VdevDirectory, Pool.Name)
                );
            }
        }
        finally
        {
            await base.DisposeAsync();
            // zfs-fuse leaves the emptied mountpoint directories; remove them (never recursively: only once the pool is gone).
            if (!await IsImportedAsync())
            {
                foreach (
                    var dir in new[] { Path.Combine(Pool.Mountpoint, "k8s"), Pool.Mountpoint }.Where(Directory.Exists)
                )
                {
                    Directory.Delete(dir);
                }
            }
            if (Directory.Exists(StateDirectory))
            {
                Directory.Delete(StateDirectory, recursive: true);
            }
        }
    }

    /// <summary>Bootstrap flags for this pool: zfs-fuse (no module), device search in the pool's vdev directory.</summary>
    public BootstrapOptions BootstrapOptions(string command = "once", params string[] extra) =>
        ZfsCsi.Bootstrap.BootstrapOptions.Parse([
            command,
            "--module",
            "none",
            "--pool",
            Pool.Name,
            "--import-dir",
            Pool.VdevDirectory,
            "--status-file",
            StatusFile,
            "--mount-lock-file",
            TestPool.LockFile,
            "--command-timeout",
            "20",
            "--import-timeout",
            "60",
            "--interval",
            "1",
            "--heartbeat",
            "1",
            .. extra,
        ]);

    public Bootstrapper NewBootstrapper(BootstrapOptions options)
    {
        var logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(BootstrapLogs).CreateLogger();
        return new Bootstrapper(options, new CliWrapCommandRunner(logger), logger);
    }

    public async Task<bool> ProbeAsync() =>
        (await Client.Identity.ProbeAsync(new ProbeRequest(), deadline: DateTime.UtcNow.AddSeconds(30))).Ready == true;

    public async Task<(HttpStatusCode Code, string Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{HealthPort}{path}"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task ExportAsync() => TestPool.WithMountLockAsync(() => Sh.CheckAsync("zpool", "export", Pool.Name));

    public async Task<bool> IsImportedAsync() =>
        (await Sh.RunAsync("zpool", "list", "-H", "-o", "name")).StandardOutput.Split('\n').Contains(Pool.Name);

    public async Task<string?> HealthAsync() =>
        (await Sh.RunAsync("zpool", "list", "-H", "-o", "name,health"))
            .StandardOutput.Split('\n')
            .Select(l => l.Split('\t'))
            .Where(c => c.Length == 2 && c[0] == Pool.Name)
            .Select(c => c[1])
            .FirstOrDefault();

    public Task<BootstrapStatus?> StatusAsync() => BootstrapStatusFile.ReadAsync(StatusFile, CancellationToken.None);

    /// <summary>Polls <paramref name="condition"/> until true or the timeout; false when it never became true.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan? every = null)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }
        return await condition();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
