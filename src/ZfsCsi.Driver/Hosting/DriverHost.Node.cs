using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Health;
using ZfsCsi.Core.Mount;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Options;
using ZfsCsi.Driver.Services;

namespace ZfsCsi.Driver.Hosting;

public static partial class DriverHost
{
    /// <summary>
    /// The node plugin: its data root (kept mounted over SSHFS when configured), volumes, readiness,
    /// the bind check; the real kernel (<see cref="LinuxKernel"/>) behind all of them.
    /// </summary>
    private static void AddNode(IServiceCollection services, DriverOptions options)
    {
        services.AddSingleton(options.Node);
        services.AddSingleton<INodeKernel, LinuxKernel>();
        services.AddSingleton<DataRoot>();
        services.AddSingleton<NodeVolumes>();
        services.AddSingleton<IReadinessCheck, NodeReadiness>();
        services.AddHostedService<NodeSupervisor>();
    }
}

/// <summary>
/// The node plugin's background work for the life of the server: <see cref="DataRoot.SuperviseAsync"/>
/// (the first SSHFS mount and every re-mount after, when this node owns it) and
/// <see cref="NodeVolumes.GuardBindsAsync"/> (every published bind re-checked against its dataset
/// being mounted). The bind check takes the same per-target lock as NodePublishVolume and
/// NodeUnpublishVolume, so it never cuts a bind an RPC is making or removing.
/// </summary>
internal sealed class NodeSupervisor(DataRoot dataRoot, NodeVolumes volumes, OperationLocks locks, NodeOptions options)
    : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            options.Sshfs is null ? Task.CompletedTask : dataRoot.SuperviseAsync(stoppingToken),
            volumes.GuardBindsAsync(TryLockTarget, stoppingToken)
        );

    private IDisposable? TryLockTarget(string canonicalTarget)
    {
        try
        {
            return locks.Acquire(NodeService.TargetKey(canonicalTarget));
        }
        catch (OperationPendingException)
        {
            return null;
        }
    }
}
