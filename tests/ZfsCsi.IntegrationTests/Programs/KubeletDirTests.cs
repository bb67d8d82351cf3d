using Serilog;
using Serilog.Events;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.Driver.Options;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.IntegrationTests.Programs;

/// <summary>A --kubelet-dir reached through a symlink is said at start-up (mountinfo shows real paths).</summary>
public sealed class KubeletDirTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("zfs-csi-kubelet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_node_plugin_warns_when_its_kubelet_dir_goes_through_a_symlink(bool throughLink)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "real", "kubelet"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "link"), Path.Combine(_dir, "real"));
        var kubelet = Path.Combine(_dir, throughLink ? "link" : "real", "kubelet");
        var sink = new InMemorySink();
        var logger = new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger();
        var options = DriverOptions.Parse([
            "--mode",
            "node",
            "--nodeid",
            "n",
            "--endpoint",
            $"unix://{_dir}/csi.sock",
            "--data-root",
            _dir,
            "--kubelet-dir",
            kubelet,
            "--parent-dataset",
            "data/k8s",
        ]);

        await using var app = DriverHost.Build(options, logger);
        await DriverHost.PrepareAsync(app, options, CancellationToken.None);

        Assert.Equal(
            throughLink,
            sink.Events.Any(e =>
                e.Level == LogEventLevel.Warning && e.MessageTemplate.Text.Contains("symlink", StringComparison.Ordinal)
            )
        );
    }
}
