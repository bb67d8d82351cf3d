using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Health;
using ZfsCsi.Driver.Options;

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
        // RequestDelegate handlers: nothing is bound from the delegate's parameters by reflection
        // (the Delegate overloads of MapGet are not trimming- or native-AOT-safe).
        app.MapGet("/readyz", async context =>
            {
                var ct = context.RequestAborted;
                var reasons = new List<string>();
                foreach (var check in context.RequestServices.GetServices<IReadinessCheck>())
                {
                    var readiness = await check.CheckAsync(ct).ConfigureAwait(false);
                    if (!readiness.Ready)
                    {
                        await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, readiness.Reason)
                            .ConfigureAwait(false);
                        return;
                    }
                    reasons.Add(readiness.Reason);
                }
                await WriteAsync(
                        context,
                        StatusCodes.Status200OK,
                        reasons.Count > 0 ? string.Join("\n", reasons) : "ready"
                    )
                    .ConfigureAwait(false);
            })
            .RequireHost(host);
        app.MapGet("/healthz", async context =>
            {
                var bootstrap = context.RequestServices.GetService<BootstrapReadiness>();
                if (bootstrap is null)
                {
                    await WriteAsync(context, StatusCodes.Status200OK, "alive").ConfigureAwait(false);
                    return;
                }
                var liveness = await bootstrap.CheckLivenessAsync(context.RequestAborted).ConfigureAwait(false);
                await WriteAsync(
                        context,
                        liveness.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable,
                        liveness.Reason
                    )
                    .ConfigureAwait(false);
            })
            .RequireHost(host);
    }

    /// <summary>The reason as one text/plain body ending in a newline, as Results.Text wrote it.</summary>
    private static Task WriteAsync(HttpContext context, int statusCode, string text)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text + "\n", context.RequestAborted);
    }
}
