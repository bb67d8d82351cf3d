using Csi.V1;
using ZfsCsi.Core.Health;
using ZfsCsi.Driver.Options;
using ZfsCsi.Driver.Services;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Driver.Services;

public sealed class IdentityServiceTests
{
    private sealed class FixedCheck(bool ready) : IReadinessCheck
    {
        public int Calls { get; private set; }

        public Task<Readiness> CheckAsync(CancellationToken ct)
        {
            Calls++;
            return Task.FromResult(new Readiness(ready, ready ? "fine" : "pool data is not imported"));
        }
    }

    [Fact]
    public async Task Plugin_info_names_the_configured_driver_and_a_version()
    {
        var options = DriverOptions.Parse(["--mode", "controller", "--driver-name", "zfs.example.org"]);

        var info = await new IdentityService(options, [], Serilog.Core.Logger.None).GetPluginInfo(
            new GetPluginInfoRequest(),
            new TestServerCallContext()
        );

        Assert.Equal("zfs.example.org", info.Name);
        Assert.False(string.IsNullOrEmpty(info.VendorVersion));
    }

    [Theory]
    [InlineData("controller", true)]
    [InlineData("both", true)]
    [InlineData("node", false)]
    public async Task The_controller_service_is_advertised_only_when_served(string mode, bool controller)
    {
        var options = DriverOptions.Parse(["--mode", mode, "--nodeid", "alice"]);

        var response = await new IdentityService(options, [], Serilog.Core.Logger.None).GetPluginCapabilities(
            new GetPluginCapabilitiesRequest(),
            new TestServerCallContext()
        );

        Assert.Equal(
            controller,
            response.Capabilities.Any(c =>
                c.Service?.Type == PluginCapability.Types.Service.Types.Type.ControllerService
            )
        );
    }

    [Fact]
    public async Task Probe_is_ready_only_when_every_check_is()
    {
        var options = DriverOptions.Parse(["--mode", "controller"]);

        Assert.True(
            (
                await new IdentityService(options, [new FixedCheck(true)], Serilog.Core.Logger.None).Probe(
                    new ProbeRequest(),
                    new TestServerCallContext()
                )
            ).Ready
        );
        Assert.True(
            (
                await new IdentityService(options, [], Serilog.Core.Logger.None).Probe(
                    new ProbeRequest(),
                    new TestServerCallContext()
                )
            ).Ready
        );
        Assert.False(
            (
                await new IdentityService(
                    options,
                    [new FixedCheck(true), new FixedCheck(false)],
                    Serilog.Core.Logger.None
                ).Probe(new ProbeRequest(), new TestServerCallContext())
            ).Ready
        );
    }
}
