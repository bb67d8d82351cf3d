using ZfsCsi.Core.Options;

namespace ZfsCsi.Driver.Options;

public sealed partial class DriverOptions
{
    /// <summary>True when /metrics is served (and so recorded): <c>--metrics-address</c> was given.</summary>
    public bool MetricsEnabled => MetricsAddress.Length > 0;

    /// <summary>
    /// The metrics listener shares the health listener when it names the same address and port
    /// (one Kestrel listener serves both paths); the same port on another address could not be bound.
    /// </summary>
    public bool MetricsShareHealthListener =>
        MetricsEndpoint is { } m
        && HealthPort > 0
        && m.Port == HealthPort
        && System.Net.IPAddress.Parse(HealthAddress).Equals(m.Address);

    private void ValidateMetrics()
    {
        if (!MetricsEnabled)
        {
            return;
        }
        // IPEndPoint.TryParse takes "1.2.3.4" as port 0: a port is required.
        if (MetricsEndpoint is not { Port: > 0 } endpoint)
        {
            throw new OptionsException(
                $"--metrics-address '{MetricsAddress}': expected IP:PORT such as 0.0.0.0:9809, 127.0.0.1:9809 or [::]:9809"
            );
        }
        if (HealthPort > 0 && endpoint.Port == HealthPort && !MetricsShareHealthListener)
        {
            throw new OptionsException(
                $"--metrics-address '{MetricsAddress}' uses the health port {HealthPort} on another address than --health-address {HealthAddress}: give both the same address to share the listener, or another port"
            );
        }
    }
}
