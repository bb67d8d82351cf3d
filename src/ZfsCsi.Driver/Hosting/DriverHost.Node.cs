using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Driver.Hosting;

public static partial class DriverHost
{
    /// <summary>The node plugin: its data root (kept mounted over SSHFS when configured), volumes, readiness.</summary>
    private static void AddNode(IServiceCollection services, DriverOptions options)
    {
        services.AddSingleton(options.Node);
        services.AddSingleton<DataRoot>();
        services.AddSingleton<NodeVolumes>();
        services.AddSingleton<IReadinessCheck, NodeReadiness>();
        if (options.Node.Sshfs is not null)
        {
            services.AddHostedService<DataRootSupervisor>();
        }
    }
}

/// <summary>Runs <see cref="DataRoot.SuperviseAsync"/> for the life of the server: the first mount, and every re-mount after.</summary>
internal sealed class DataRootSupervisor(DataRoot dataRoot) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dataRoot.SuperviseAsync(stoppingToken);
}
