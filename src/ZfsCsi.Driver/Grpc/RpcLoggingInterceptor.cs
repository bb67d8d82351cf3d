using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ZfsCsi.Driver.Grpc;

/// <summary>
/// One structured event per RPC: method, the ids in the request, duration and status code, and the
/// same duration and code in <see cref="Metrics.RpcMetrics"/> when metrics are on (one place for
/// both, so the log and the histogram never disagree). Registered outside the error mapping, so it
/// records the code the caller really gets. Only the fields named in <see cref="LoggedFields"/> are
/// read: secrets and volume contexts never reach a log.
/// </summary>
public sealed class RpcLoggingInterceptor(Serilog.ILogger logger, Metrics.RpcMetrics? metrics = null) : Interceptor
{
    private static readonly string[] LoggedFields =
    [
        "name",
        "volume_id",
        "snapshot_id",
        "source_volume_id",
        "group_snapshot_id",
        "node_id",
        "target_path",
        "staging_target_path",
        "starting_token",
    ];

    private readonly Serilog.ILogger _log = logger.ForContext<RpcLoggingInterceptor>();

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation
    )
    {
        var started = Stopwatch.GetTimestamp();
        var ids = Ids(request as IMessage);
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            _log.Information(
                "RPC {Method} {@Ids} finished {StatusCode} in {DurationMs:F1} ms",
                context.Method,
                ids,
                StatusCode.OK,
                elapsed.TotalMilliseconds
            );
            metrics?.Observe(context.Method, StatusCode.OK, elapsed);
            return response;
        }
        catch (RpcException e)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            _log.Warning(
                "RPC {Method} {@Ids} failed {StatusCode} in {DurationMs:F1} ms: {Detail}",
                context.Method,
                ids,
                e.StatusCode,
                elapsed.TotalMilliseconds,
                e.Status.Detail
            );
            metrics?.Observe(context.Method, e.StatusCode, elapsed);
            throw;
        }
    }

    private static Dictionary<string, string> Ids(IMessage? message)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        if (message is null)
        {
            return ids;
        }
        foreach (var name in LoggedFields)
        {
            var field = message.Descriptor.FindFieldByName(name);
            if (field?.Accessor.GetValue(message) is string { Length: > 0 } value)
            {
                ids[name] = value;
            }
        }
        return ids;
    }
}
