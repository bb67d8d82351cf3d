using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Driver.Hosting;

/// <summary>
/// Plain HTTP probes for Kubernetes, on <c>--health-port</c> only (never on the CSI socket).
/// /readyz: 200 only when every readiness check is ready (the same checks as Identity.Probe),
/// else 503; the body is the reason. /healthz: liveness, 200 while the process runs and the
/// bootstrap is making progress, so a module rebuild that takes minutes is never cut short by a
/// restart; 503 only when the bootstrap is mid-step and its heartbeat has gone stale.
/// </summary>
public static class HealthEndpoints
{
    public static void Map(WebApplication app, DriverOptions options)
    {
        if (options.HealthPort == 0)
        {
            return;
        }
        var host = $"*:{options.HealthPort}";
        app.MapGet("/readyz", async (IEnumerable<IReadinessCheck> checks, CancellationToken ct) =>
        {
            var reasons = new List<string>();
            foreach (var check in checks)
            {
                var readiness = await check.CheckAsync(ct).ConfigureAwait(false);
                if (!readiness.Ready)
                {
                    return Results.Text(readiness.Reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
                }
                reasons.Add(readiness.Reason);
            }
            return Results.Text((reasons.Count > 0 ? string.Join("\n", reasons) : "ready") + "\n");
        }).RequireHost(host);
        app.MapGet("/healthz", async (IServiceProvider services, CancellationToken ct) =>
        {
            var bootstrap = services.GetService<BootstrapReadiness>();
            if (bootstrap is null)
            {
                return Results.Text("alive\n");
            }
            var liveness = await bootstrap.CheckLivenessAsync(ct).ConfigureAwait(false);
            return Results.Text(liveness.Reason + "\n", statusCode: liveness.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).RequireHost(host);
    }
}
