using Csi.V1;
using Grpc.Net.Client;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;
using PluginService = Csi.V1.PluginCapability.Types.Service.Types.Type;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// One pool and one driver process for the whole suite (a collection fixture): the driver runs as
/// a container orchestrator sees it, and the suite talks to it only over its unix socket with
/// <see cref="UnixSocketChannel"/> (h2c, <c>:authority: localhost</c>, as the Go sidecars send).
/// What the driver advertises is read once at start; tests check each advertised RPC and the
/// spec's rule for every one it does not advertise.
/// </summary>
public sealed class ConformanceFixture : IAsyncLifetime
{
    public const string NodeId = "conformance-node";

    public ConformancePool Pool { get; } = new();

    public DriverProcess Driver { get; private set; } = null!;

    /// <summary>The driver's --mode: which services this process is meant to serve.</summary>
    public string Mode { get; } = "controller";

    public GrpcChannel Channel { get; private set; } = null!;

    public Identity.IdentityClient Identity => new(Channel);

    public Controller.ControllerClient Controller => new(Channel);

    public Node.NodeClient Node => new(Channel);

    public GroupController.GroupControllerClient GroupController => new(Channel);

    /// <summary>
    /// The node plugin: a second driver process, <c>--mode node</c>, on its own socket, seeing the
    /// pool through its mountpoint as a node sees it through /data (the split of the users'
    /// cluster: controller on alice, node plugins everywhere). Null when this driver build has no
    /// node plugin (its usage names no --data-root).
    /// </summary>
    public NodePlugin? NodePlugin { get; private set; }

    public GetPluginCapabilitiesResponse PluginCapabilities { get; private set; } = null!;

    /// <summary>Empty when the plugin does not advertise CONTROLLER_SERVICE.</summary>
    public IReadOnlySet<ControllerRpc> ControllerCapabilities { get; private set; } = new HashSet<ControllerRpc>();

    public bool Advertises(ControllerRpc rpc) => ControllerCapabilities.Contains(rpc);

    public bool Advertises(PluginService service) =>
        PluginCapabilities.Capabilities.Any(c => c.Service?.Type == service);

    private readonly SemaphoreSlim _sharedGate = new(1, 1);
    private string? _sharedVolumeId;

    /// <summary>
    /// One volume made once for the probes that only need a volume to exist (capability checks);
    /// it goes with the pool. A made-up id when the plugin cannot create volumes.
    /// </summary>
    public async Task<string> SharedVolumeIdAsync()
    {
        await _sharedGate.WaitAsync();
        try
        {
            if (_sharedVolumeId is null)
            {
                _sharedVolumeId = Advertises(ControllerRpc.CreateDeleteVolume)
                    ? (await Controller.CreateVolumeAsync(Requests.Create(Requests.UniqueName("shared"))))
                        .Volume
                        .VolumeId
                    : $"{Pool.Parent}/csan-shared";
            }
            return _sharedVolumeId;
        }
        finally
        {
            _sharedGate.Release();
        }
    }

    public async Task InitializeAsync()
    {
        try
        {
            await Pool.CreateAsync();
            Driver = await DriverProcess.StartOnAsync(
                StorageHost.Current,
                Pool.RunDirectory,
                "driver",
                ["--mode", Mode, "--nodeid", NodeId, "--parent-dataset", Pool.Parent, "--zfs-timeout", "60"]
            );
            Channel = UnixSocketChannel.Create(Driver.SocketPath);
            NodePlugin = await NodePlugin.StartIfSupportedAsync(Pool);
            PluginCapabilities = await Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());
            if (Advertises(PluginService.ControllerService))
            {
                var caps = await Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest());
                ControllerCapabilities = caps
                    .Capabilities.Where(c => c.Rpc is not null)
                    .Select(c => c.Rpc.Type)
                    .ToHashSet();
            }
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed: clean up here, then fail.
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        try
        {
            if (NodePlugin is not null)
            {
                await NodePlugin.DisposeAsync();
            }
            if (Driver is not null)
            {
                await Driver.DisposeAsync();
            }
        }
        finally
        {
            await Pool.DestroyAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ConformanceCollection : ICollectionFixture<ConformanceFixture>
{
    public const string Name = "conformance";
}
