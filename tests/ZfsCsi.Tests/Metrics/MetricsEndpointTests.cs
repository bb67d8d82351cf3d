using System.Net;
using System.Net.Sockets;
using Csi.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.Driver.Options;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Metrics;

/// <summary>The real host: Kestrel on a loopback port for /metrics, the CSI socket for an RPC, a fake zfs behind it.</summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private readonly string _socket = $"/tmp/zfs-csi-metrics-{Guid.NewGuid():N}.sock";
    private readonly int _metricsPort = FreePort();
    private readonly int _healthPort = FreePort();
    private readonly FakeCommandRunner _runner = new();
    private WebApplication? _app;

    public async Task InitializeAsync()
    {
        StorageSamplerTests.ScriptPool(
            _runner,
            StorageSamplerTests.Volume("data/k8s", null, null)
                + StorageSamplerTests.Volume(
                    "data/k8s/pvc-1",
                    "pvc-1",
                    Markers.StateReady,
                    refquota: 64 << 20,
                    referenced: 114688,
                    ratio: "1.00"
                )
        );
        var options = DriverOptions.Parse([
            "--mode",
            "controller",
            "--endpoint",
            $"unix://{_socket}",
            "--parent-dataset",
            "data/k8s",
            "--mount-lock-file=",
            "--metrics-address",
            $"127.0.0.1:{_metricsPort}",
            "--health-port",
            _healthPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ]);
        _app = DriverHost.Build(options, Serilog.Core.Logger.None, _runner);
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        File.Delete(_socket);
    }

    [Fact]
    public async Task A_scrape_over_http_returns_the_rpc_storage_and_process_metrics_in_the_text_format()
    {
        await GetPluginInfoAsync();
        using var http = new HttpClient();

        // The collector's first read runs as the host starts; wait for it rather than for a fixed time.
        Exposition scrape;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage response;
        do
        {
            response = await http.GetAsync($"http://127.0.0.1:{_metricsPort}/metrics");
            scrape = Exposition.Parse(await response.Content.ReadAsStringAsync());
        } while (!scrape.Has("zfs_csi_volume_quota_bytes") && DateTime.UtcNow < deadline && await Delay());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Equal(
            1,
            scrape.Value(
                "zfs_csi_operations_seconds_count",
                ("method", "/csi.v1.Identity/GetPluginInfo"),
                ("grpc_status_code", "OK")
            )
        );
        Assert.Equal(1, scrape.Value("zfs_csi_pool_health", ("pool", "data"), ("health", "ONLINE")));
        Assert.Equal(0.07, scrape.Value("zfs_csi_pool_fragmentation_ratio", ("pool", "data")), 6);
        Assert.Equal(64 << 20, scrape.Value("zfs_csi_volume_quota_bytes", ("volume_id", "data/k8s/pvc-1")));
        Assert.Equal(114688, scrape.Value("zfs_csi_volume_referenced_bytes", ("volume_id", "data/k8s/pvc-1")));
        Assert.Equal(1, scrape.Value("zfs_csi_storage_collection_success"));
        Assert.True(scrape.Value("process_working_set_bytes") > 0);
        Assert.Equal("histogram", scrape.Types["zfs_csi_operations_seconds"]);
        // The fake runner is the host's command runner: the real one (and its command metrics) is not in play.
        Assert.Equal("counter", scrape.Types["zfs_csi_command_failures_total"]);
    }

    [Fact]
    public async Task Metrics_are_served_on_their_own_port_only_and_the_probes_on_theirs()
    {
        using var http = new HttpClient();

        var onHealthPort = await http.GetAsync($"http://127.0.0.1:{_healthPort}/metrics");
        var readyOnMetricsPort = await http.GetAsync($"http://127.0.0.1:{_metricsPort}/readyz");
        var healthz = await http.GetAsync($"http://127.0.0.1:{_healthPort}/healthz");

        Assert.Equal(HttpStatusCode.NotFound, onHealthPort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, readyOnMetricsPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
    }

    private async Task GetPluginInfoAsync()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(_socket), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var channel = GrpcChannel.ForAddress(
            "http://localhost",
            new GrpcChannelOptions { HttpHandler = handler }
        );
        var info = await new Identity.IdentityClient(channel).GetPluginInfoAsync(new GetPluginInfoRequest());
        Assert.Equal(DriverOptions.DefaultDriverName, info.Name);
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
