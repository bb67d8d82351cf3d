using Serilog;
using ZfsCsi.Core.Exec;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.Driver.Options;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>
/// The driver, in this process, serving on a real unix socket over a real zfs-fuse pool of its
/// own; a <see cref="CsiClient"/> connected as the Go sidecars connect.
/// </summary>
public class DriverFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public TestPool Pool { get; } = new();
    public InMemorySink Logs { get; } = new();
    public string SocketPath { get; } = $"/tmp/zfs-csi-tests/sock-{Guid.NewGuid():N}.sock";
    public CsiClient Client { get; private set; } = null!;
    public DriverOptions Options { get; private set; } = null!;
    public RecordingCommandRunner Commands { get; private set; } = null!;

    /// <summary>Extra flags for the driver under test (subclasses set the mode and more).</summary>
    protected virtual IEnumerable<string> ExtraArgs => ["--mode", "controller"];

    public virtual async Task InitializeAsync()
    {
        await Pool.InitializeAsync();
        await StartDriverAsync();
    }

    public virtual async Task DisposeAsync()
    {
        await StopDriverAsync();
        await Pool.DisposeAsync();
    }

    /// <summary>Stops the driver and starts a new one on the same socket and pool: what a pod restart does.</summary>
    public async Task RestartDriverAsync()
    {
        await StopDriverAsync();
        await StartDriverAsync();
    }

    protected async Task StartDriverAsync()
    {
        Options = DriverOptions.Parse([
            "--endpoint",
            $"unix://{SocketPath}",
            "--parent-dataset",
            Pool.Parent,
            "--zfs-timeout",
            "20",
            .. ExtraArgs,
        ]);
        var logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(Logs).CreateLogger();
        Commands = new RecordingCommandRunner(new CliWrapCommandRunner(logger));
        _app = DriverHost.Build(Options, logger, Commands);
        await DriverHost.PrepareAsync(_app, Options, CancellationToken.None);
        await _app.StartAsync();
        Client = new CsiClient(SocketPath);
    }

    private async Task StopDriverAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
        File.Delete(SocketPath);
    }

    /// <summary>Names of the datasets directly under the parent, from zfs itself.</summary>
    public async Task<IReadOnlyList<string>> ChildDatasetsAsync()
    {
        var output = await Sh.CheckAsync("zfs", "list", "-H", "-o", "name", "-r", Pool.Parent);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(n => n != Pool.Parent).ToList();
    }

    /// <summary>Every dataset and snapshot in the test pool, sorted: a before/after picture of the pool.</summary>
    public async Task<IReadOnlyList<string>> AllDatasetsAsync()
    {
        var output = await Sh.CheckAsync("zfs", "get", "-H", "-r", "-o", "name", "name", Pool.Name);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
    }

    public async Task<string> GetPropertyAsync(string dataset, string property) =>
        (await Sh.CheckAsync("zfs", "get", "-H", "-p", "-o", "value", property, dataset)).Trim();
}
