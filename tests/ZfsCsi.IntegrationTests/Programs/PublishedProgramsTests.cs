using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Csi.V1;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.Programs;

/// <summary>The native AOT executables from lab/publish (what ships): <see cref="Published"/>.</summary>
public sealed class PublishedPrograms : IAsyncLifetime
{
    public string Driver { get; private set; } = "";
    public string Bootstrap { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Driver = await Published.DriverAsync();
        Bootstrap = await Published.BootstrapAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// The published executables run, not the JIT build the other tests load: native code only (no
/// managed assembly beside them), the driver serving Identity over its unix socket, health and
/// metrics over HTTP and JSON logs (each once reflection-based, now generated or hand-written), and
/// the bootstrap writing a status file (source-generated JSON) that the driver's reader accepts.
/// Neither touches a pool: the driver's zfs and zpool are /bin/false (Probe says not ready, which is
/// its answer to work with), the bootstrap looks for a pool that does not exist.
/// </summary>
public sealed class PublishedProgramsTests(PublishedPrograms published) : IClassFixture<PublishedPrograms>
{
    [Fact]
    public async Task The_published_programs_are_native_executables_that_print_their_usage()
    {
        foreach (var program in new[] { published.Driver, published.Bootstrap })
        {
            var header = new byte[4];
            await using (var file = File.OpenRead(program))
            {
                await file.ReadExactlyAsync(header);
            }
            Assert.Equal("\u007fELF"u8.ToArray(), header);
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(program)!, "*.dll"));

            var help = await Sh.RunAsync(program, "--help");
            Assert.Equal(0, help.ExitCode);
            Assert.Contains("--log-format", help.StandardOutput);

            var version = await Sh.RunAsync(program, "--version");
            Assert.Equal(0, version.ExitCode);
            Assert.Matches(@"^zfs-csi-(driver|bootstrap) \d+\.\d+\.\d+", version.StandardOutput);

            var wrong = await Sh.RunAsync(program, "--no-such-flag", "1");
            Assert.Equal(2, wrong.ExitCode);
            Assert.Contains("--no-such-flag", wrong.StandardError);

            // The flag table's typed values and bounds work the same without a JIT.
            var (args, reason) =
                program == published.Driver
                    ? (
                        new[] { "--mode", "controller", "--bind-check-interval=61" },
                        "--bind-check-interval: '61' is above the maximum 60s"
                    )
                    : (
                        new[] { "once", "--pool", "data", "--retry-delay", "-1" },
                        "--retry-delay: '-1' is below the minimum 0s"
                    );
            var bad = await Sh.RunAsync(program, args);
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains(reason, bad.StandardError);
        }
    }

    [Fact]
    public async Task The_published_bootstrap_writes_a_status_file_the_driver_reads()
    {
        var pool = $"zcsitnope{Environment.ProcessId}";
        var statusFile = $"/tmp/zfs-csi-tests/aot-status-{Guid.NewGuid():N}.json";
        try
        {
            var once = await Sh.RunAsync(
                published.Bootstrap,
                "once",
                "--module",
                "none",
                "--pool",
                pool,
                "--no-import",
                "--status-file",
                statusFile,
                "--log-format",
                "json"
            );
            Assert.NotEqual(0, once.ExitCode); // the pool is not there
            var lines = once.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(lines);
            Assert.All(lines, l => Assert.StartsWith("{\"@t\":", l));

            var status = await BootstrapStatusFile.ReadAsync(statusFile, CancellationToken.None);
            Assert.NotNull(status);
            Assert.Equal(BootstrapState.Failed, status.State);
            Assert.Equal(pool, status.Pool);
            Assert.Contains(pool, status.Reason);
            Assert.Contains("\"state\": \"failed\"", await File.ReadAllTextAsync(statusFile));

            var alive = await Sh.RunAsync(published.Bootstrap, "alive", "--status-file", statusFile);
            Assert.Equal(0, alive.ExitCode); // a finished one-shot run is not stuck
        }
        finally
        {
            File.Delete(statusFile);
        }
    }

    [Fact]
    public async Task The_published_driver_answers_identity_health_and_metrics()
    {
        var socket = $"/tmp/zfs-csi-tests/aot-{Guid.NewGuid():N}.sock";
        var healthPort = FreePort();
        var metricsPort = FreePort();
        var info = new ProcessStartInfo(published.Driver)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList =
            {
                "--endpoint",
                $"unix://{socket}",
                "--mode",
                "controller",
                "--parent-dataset",
                "zcsitnope/k8s",
                "--zfs",
                "/bin/false",
                "--zpool",
                "/bin/false",
                "--mount-lock-file",
                "",
                "--health-port",
                healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--metrics-address",
                $"127.0.0.1:{metricsPort}",
                "--log-format",
                "json",
            },
        };
        using var driver = Process.Start(info)!;
        var stdout = driver.StandardOutput.ReadToEndAsync();
        var stderr = driver.StandardError.ReadToEndAsync();
        try
        {
            using var client = new CsiClient(socket);
            ProbeResponse? probe = null;
            for (var i = 0; i < 200 && probe is null; i++)
            {
                Assert.False(driver.HasExited, $"the driver exited {(driver.HasExited ? driver.ExitCode : 0)}");
                try
                {
                    probe = File.Exists(socket) ? await client.Identity.ProbeAsync(new ProbeRequest()) : null;
                }
                catch (Grpc.Core.RpcException)
                {
                    // not serving yet
                }
                if (probe is null)
                {
                    await Task.Delay(50);
                }
            }
            Assert.NotNull(probe);
            Assert.False(probe.Ready); // zfs is /bin/false

            var plugin = await client.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
            Assert.Equal("zfs.csi.dev", plugin.Name);
            Assert.Equal(DriverInfo.Version, plugin.VendorVersion);
            var capabilities = await client.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());
            Assert.Contains(capabilities.Capabilities, c =>
                c.Service?.Type == PluginCapability.Types.Service.Types.Type.ControllerService
            );

            using var http = new HttpClient();
            var healthz = await http.GetAsync($"http://127.0.0.1:{healthPort}/healthz");
            Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
            Assert.Equal("alive\n", await healthz.Content.ReadAsStringAsync());
            var readyz = await http.GetAsync($"http://127.0.0.1:{healthPort}/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
            Assert.NotEmpty((await readyz.Content.ReadAsStringAsync()).Trim());

            var metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
            Assert.Contains(
                "zfs_csi_operations_seconds_count{method=\"/csi.v1.Identity/GetPluginInfo\",grpc_status_code=\"OK\"} 1",
                metrics
            );
            Assert.Contains("zfs_csi_command_failures_total{program=\"false\"", metrics);
        }
        finally
        {
            if (!driver.HasExited)
            {
                using var kill = Process.Start(
                    "kill",
                    ["-TERM", driver.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]
                )!;
                await kill.WaitForExitAsync();
            }
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await driver.WaitForExitAsync(exit.Token);
            File.Delete(socket);
        }
        Assert.Equal(0, driver.ExitCode); // SIGTERM: a clean stop
        var log = (await stdout) + (await stderr);
        Assert.Contains("{\"@t\":", log);
        Assert.Contains("/csi.v1.Identity/GetPluginInfo", log);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
