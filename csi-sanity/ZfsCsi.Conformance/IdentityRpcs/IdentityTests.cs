using System.Text.RegularExpressions;
using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;
using PluginService = Csi.V1.PluginCapability.Types.Service.Types.Type;

namespace ZfsCsi.Conformance.IdentityRpcs;

/// <summary>CSI spec, "Identity Service RPC": GetPluginInfo, GetPluginCapabilities, Probe.</summary>
public sealed partial class IdentityTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    /// <summary>
    /// GetPluginInfo.name: "MUST follow domain name notation format (RFC 1035 section 2.3.1) ...
    /// MUST be 63 characters or less, beginning and ending with an alphanumeric character with
    /// dashes, dots and alphanumerics between."
    /// </summary>
    [GeneratedRegex("^[a-zA-Z0-9]([-.a-zA-Z0-9]*[a-zA-Z0-9])?$")]
    private static partial Regex DomainLike();

    [Fact]
    [Trait("spec", "GetPluginInfo")]
    public async Task GetPluginInfo_name_is_domain_like_and_at_most_63_characters()
    {
        var info = await Fx.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        Assert.False(string.IsNullOrEmpty(info.Name), "name is REQUIRED");
        Assert.True(info.Name.Length <= 63, $"name '{info.Name}' is longer than 63 characters");
        Assert.Matches(DomainLike(), info.Name);
        // Domain name notation: no empty labels.
        Assert.DoesNotContain("..", info.Name, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("spec", "GetPluginInfo")]
    public async Task GetPluginInfo_vendor_version_is_not_empty()
    {
        // CSI spec, GetPluginInfo: vendor_version "This field is REQUIRED."
        var info = await Fx.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        Assert.False(string.IsNullOrWhiteSpace(info.VendorVersion));
    }

    [Fact]
    [Trait("spec", "GetPluginInfo")]
    public async Task GetPluginInfo_answers_the_same_every_time()
    {
        // The CO keys everything it stores (CSIDriver object, node registration) on this name.
        var first = await Fx.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        var second = await Fx.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        Assert.Equal(first, second);
    }

    [Fact]
    [Trait("spec", "GetPluginCapabilities")]
    public async Task GetPluginCapabilities_names_no_unknown_type_and_no_duplicate()
    {
        var caps = await Fx.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());
        foreach (var cap in caps.Capabilities)
        {
            Assert.NotEqual(PluginCapability.TypeOneofCase.None, cap.TypeCase);
            if (cap.Service is not null)
            {
                Assert.NotEqual(PluginService.Unknown, cap.Service.Type);
            }
            if (cap.VolumeExpansion is not null)
            {
                Assert.NotEqual(PluginCapability.Types.VolumeExpansion.Types.Type.Unknown, cap.VolumeExpansion.Type);
            }
        }
        Assert.Equal(caps.Capabilities.Count, caps.Capabilities.Distinct().Count());
    }

    [Fact]
    [Trait("spec", "GetPluginCapabilities")]
    public async Task CONTROLLER_SERVICE_is_advertised_exactly_when_the_controller_service_answers()
    {
        // CSI spec, PluginCapability.Service CONTROLLER_SERVICE: "the Controller service is
        // available"; without it the CO never calls it, and a call is UNIMPLEMENTED (Error Scheme).
        var code = await Rpc.CodeOf(async () =>
            await Fx.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest())
        );
        if (Fx.Advertises(PluginService.ControllerService))
        {
            Assert.Equal(StatusCode.OK, code);
        }
        else
        {
            Assert.Equal(StatusCode.Unimplemented, code);
        }
    }

    [Fact]
    [Trait("spec", "GetPluginCapabilities")]
    public async Task GROUP_CONTROLLER_SERVICE_is_advertised_exactly_when_the_group_controller_service_answers()
    {
        var code = await Rpc.CodeOf(async () =>
            await Fx.GroupController.GroupControllerGetCapabilitiesAsync(new GroupControllerGetCapabilitiesRequest())
        );
        Assert.Equal(
            Fx.Advertises(PluginService.GroupControllerService) ? StatusCode.OK : StatusCode.Unimplemented,
            code
        );
    }

    [Fact]
    [Trait("spec", "GetPluginCapabilities")]
    public async Task VolumeExpansion_is_advertised_only_with_an_EXPAND_VOLUME_capability()
    {
        // CSI spec, PluginCapability.VolumeExpansion: a plugin with it "MUST implement either the
        // EXPAND_VOLUME controller capability or the EXPAND_VOLUME node capability or both".
        var expansion = Fx.PluginCapabilities.Capabilities.Where(c => c.VolumeExpansion is not null).ToList();
        if (expansion.Count == 0)
        {
            return;
        }
        var node = await Rpc.CodeOf(async () =>
            await Fx.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest())
        );
        var nodeExpands =
            node == StatusCode.OK
            && (await Fx.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest())).Capabilities.Any(c =>
                c.Rpc?.Type == NodeServiceCapability.Types.RPC.Types.Type.ExpandVolume
            );
        Assert.True(
            Fx.Advertises(ControllerRpc.ExpandVolume) || nodeExpands,
            "VolumeExpansion is advertised but neither the controller nor the node advertises EXPAND_VOLUME"
        );
    }

    [Fact]
    [Trait("spec", "Probe")]
    public async Task Probe_answers_ready_on_a_healthy_pool()
    {
        // CSI spec, Probe: ready unset means ready; false means still initializing.
        var probe = await Fx.Identity.ProbeAsync(new ProbeRequest());
        Assert.True(
            probe.Ready is null || probe.Ready == true,
            "Probe answered ready=false on an imported, healthy pool"
        );
    }

    [Fact]
    [Trait("spec", "Probe")]
    public async Task Probe_is_idempotent()
    {
        for (var i = 0; i < 3; i++)
        {
            var probe = await Fx.Identity.ProbeAsync(new ProbeRequest());
            Assert.True(probe.Ready is null || probe.Ready == true);
        }
    }
}
