using ZfsCsi.Core.Metrics;
using ZfsCsi.Driver.Metrics;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Driver.Hosting;

public static partial class DriverHost
{
    /// <summary>
    /// The recorders, registered only with --metrics-address: without it nothing records (each
    /// hook takes a null recorder) and no series is kept. The storage collector runs
    /// where the pool is (controller, both); the node recorder where the data root is (node, both).
    /// </summary>
    private static void AddMetrics(
        IServiceCollection services,
        DriverOptions options,
        MetricsRegistry metrics,
        CommandMetrics commands
    )
    {
        services.AddSingleton(metrics);
        services.AddSingleton<ICommandMetrics>(commands);
        services.AddSingleton<RpcMetrics>();
        if (options.Mode != DriverMode.Controller)
        {
            services.AddSingleton<INodeMetrics, NodeMetrics>();
        }
        if (options.Mode != DriverMode.Node)
        {
            services.AddSingleton<StorageSampler>();
            services.AddSingleton<StorageMetrics>();
            services.AddSingleton<StorageCollector>();
            services.AddHostedService(sp => sp.GetRequiredService<StorageCollector>());
        }
        if (options.BootstrapStatusFile.Length > 0)
        {
            services.AddSingleton<BootstrapMetrics>();
        }
    }
}
