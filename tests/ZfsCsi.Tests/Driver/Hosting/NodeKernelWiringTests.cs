using Microsoft.Extensions.DependencyInjection;
using Serilog;
using ZfsCsi.Core.Mount;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Tests.Driver.Hosting;

/// <summary>The node plugin the host builds runs on the real kernel: one <see cref="LinuxKernel"/> behind its volumes and its data root.</summary>
public sealed class NodeKernelWiringTests
{
    [Fact]
    public async Task The_node_plugin_is_built_on_the_real_kernel()
    {
        var options = DriverOptions.Parse([
            "--mode",
            "node",
            "--nodeid",
            "n",
            "--endpoint",
            $"unix:///tmp/zfs-csi-unit-{Guid.NewGuid():N}.sock",
        ]);
        await using var app = DriverHost.Build(options, new LoggerConfiguration().CreateLogger());

        var kernel = app.Services.GetRequiredService<INodeKernel>();

        Assert.IsType<LinuxKernel>(kernel);
        Assert.NotNull(app.Services.GetRequiredService<NodeVolumes>());
        Assert.NotNull(app.Services.GetRequiredService<DataRoot>());
        Assert.Same(kernel, app.Services.GetRequiredService<INodeKernel>());
    }
}
