namespace ZfsCsi.Core.Health;

/// <summary>One condition the driver needs before it reports ready (Identity.Probe, the readiness endpoint).</summary>
public interface IReadinessCheck
{
    Task<Readiness> CheckAsync(CancellationToken ct);
}
