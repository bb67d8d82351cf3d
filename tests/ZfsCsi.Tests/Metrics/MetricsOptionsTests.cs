using ZfsCsi.Core.Options;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Tests.Metrics;

public sealed class MetricsOptionsTests
{
    private static DriverOptions Parse(params string[] args) => DriverOptions.Parse(["--mode", "controller", .. args]);

    [Fact]
    public void Metrics_are_off_unless_an_address_is_given()
    {
        var options = Parse();

        Assert.False(options.MetricsEnabled);
        Assert.Null(options.MetricsEndpoint);
    }

    [Theory]
    [InlineData("0.0.0.0:9809", "0.0.0.0", 9809)]
    [InlineData(":9809", "0.0.0.0", 9809)]
    [InlineData("[::1]:9809", "::1", 9809)]
    public void A_metrics_address_is_an_ip_and_a_port(string address, string ip, int port)
    {
        var endpoint = Parse("--metrics-address", address).MetricsEndpoint;

        Assert.NotNull(endpoint);
        Assert.Equal(System.Net.IPAddress.Parse(ip), endpoint.Address);
        Assert.Equal(port, endpoint.Port);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost:9809")]
    [InlineData("127.0.0.1:99999")]
    public void A_metrics_address_without_an_ip_and_a_valid_port_stops_start_up(string address)
    {
        var e = Assert.Throws<OptionsException>(() => Parse("--metrics-address", address));

        Assert.Contains("--metrics-address", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_health_port_is_shared_on_the_same_address_and_refused_on_another()
    {
        Assert.True(Parse("--health-port", "9808", "--metrics-address", "127.0.0.1:9808").MetricsShareHealthListener);

        var e = Assert.Throws<OptionsException>(() =>
            Parse("--health-port", "9808", "--metrics-address", "0.0.0.0:9808")
        );
        Assert.Contains("another port", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("abc")]
    public void A_metrics_interval_below_a_second_or_not_a_number_stops_start_up(string interval)
    {
        Assert.Throws<OptionsException>(() => Parse("--metrics-interval", interval));
    }
}
