using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Health;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Driver.Services;

/// <summary>CSI Identity service: who the plugin is, what it serves, and whether it is ready.</summary>
public sealed class IdentityService(DriverOptions options, IEnumerable<IReadinessCheck> checks, Serilog.ILogger logger)
    : Identity.IdentityBase
{
    private readonly Serilog.ILogger _log = logger.ForContext<IdentityService>();

    public override Task<GetPluginInfoResponse> GetPluginInfo(
        GetPluginInfoRequest request,
        ServerCallContext context
    ) => Task.FromResult(new GetPluginInfoResponse { Name = options.DriverName, VendorVersion = DriverInfo.Version });

    public override Task<GetPluginCapabilitiesResponse> GetPluginCapabilities(
        GetPluginCapabilitiesRequest request,
        ServerCallContext context
    )
    {
        var response = new GetPluginCapabilitiesResponse();
        if (options.Mode != DriverMode.Node)
        {
            response.Capabilities.Add(
                new PluginCapability
                {
                    Service = new PluginCapability.Types.Service
                    {
                        Type = PluginCapability.Types.Service.Types.Type.ControllerService,
                    },
                }
            );
            // Volume group snapshots (CSI spec, GroupController service).
            response.Capabilities.Add(
                new PluginCapability
                {
                    Service = new PluginCapability.Types.Service
                    {
                        Type = PluginCapability.Types.Service.Types.Type.GroupControllerService,
                    },
                }
            );
            // A quota change is visible through the bind mount at once: expansion is online.
            response.Capabilities.Add(
                new PluginCapability
                {
                    VolumeExpansion = new PluginCapability.Types.VolumeExpansion
                    {
                        Type = PluginCapability.Types.VolumeExpansion.Types.Type.Online,
                    },
                }
            );
        }
        return Task.FromResult(response);
    }

    /// <summary>CSI spec, Probe: ready is false (not an error) while the plugin cannot yet serve.</summary>
    public override async Task<ProbeResponse> Probe(ProbeRequest request, ServerCallContext context)
    {
        foreach (var check in checks)
        {
            var readiness = await check.CheckAsync(context.CancellationToken).ConfigureAwait(false);
            if (!readiness.Ready)
            {
                _log.Information("Not ready: {Reason}", readiness.Reason);
                return new ProbeResponse { Ready = false };
            }
        }
        return new ProbeResponse { Ready = true };
    }
}
