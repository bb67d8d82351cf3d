using Grpc.Core;
using Grpc.Core.Interceptors;
using ZfsCsi.Core.Errors;

namespace ZfsCsi.Driver.Grpc;

/// <summary>
/// The one place where failures become gRPC status codes (the CSI spec names the code for each
/// failure of each RPC). Domain exceptions carry an <see cref="ErrorKind"/>; an RpcException a
/// service threw on purpose passes unchanged; anything else is a bug and answers INTERNAL, never
/// UNKNOWN (which is what grpc-dotnet would make of an unhandled exception).
/// </summary>
public sealed class ErrorMappingInterceptor(Serilog.ILogger logger) : Interceptor
{
    private readonly Serilog.ILogger _log = logger.ForContext<ErrorMappingInterceptor>();

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation
    )
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented && string.IsNullOrEmpty(e.Status.Detail))
        {
            // The generated base classes answer RPCs this driver does not serve with an empty
            // message; the CSI spec (Error Scheme) wants every error described.
            throw new RpcException(
                new Status(
                    StatusCode.Unimplemented,
                    $"{context.Method} is not implemented by zfs-csi: its capability is not advertised (see ControllerGetCapabilities / NodeGetCapabilities)"
                )
            );
        }
        catch (RpcException)
        {
            throw;
        }
        catch (ZfsCsiException e)
        {
            throw new RpcException(new Status(StatusFor(e.Kind), e.Message));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(
                new Status(StatusCode.Cancelled, "the caller cancelled the call or its deadline passed")
            );
        }
        catch (Exception e)
        {
            _log.Error(e, "Unexpected failure in {Method}", context.Method);
            throw new RpcException(new Status(StatusCode.Internal, $"internal error: {e.GetType().Name}: {e.Message}"));
        }
    }

    public static StatusCode StatusFor(ErrorKind kind) =>
        kind switch
        {
            ErrorKind.InvalidInput => StatusCode.InvalidArgument,
            ErrorKind.NotFound => StatusCode.NotFound,
            ErrorKind.AlreadyExists => StatusCode.AlreadyExists,
            ErrorKind.OutOfSpace => StatusCode.ResourceExhausted,
            ErrorKind.OutOfRange => StatusCode.OutOfRange,
            ErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
            ErrorKind.Aborted => StatusCode.Aborted,
            ErrorKind.Unavailable => StatusCode.Unavailable,
            ErrorKind.Timeout => StatusCode.DeadlineExceeded,
            _ => StatusCode.Internal,
        };
}
