using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Driver.Grpc;

public sealed class ErrorMappingInterceptorTests
{
    private readonly InMemorySink _sink = new();

    private ErrorMappingInterceptor Interceptor => new(_sink.CreateLogger());

    private async Task<RpcException> CallThrowing(Exception exception, ServerCallContext? context = null) =>
        await Assert.ThrowsAsync<RpcException>(() =>
            Interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
                new CreateVolumeRequest { Name = "pvc-1" },
                context ?? new TestServerCallContext(),
                (_, _) => throw exception
            )
        );

    public static TheoryData<ErrorKind, StatusCode> Kinds() =>
        new()
        {
            { ErrorKind.Internal, StatusCode.Internal },
            { ErrorKind.InvalidInput, StatusCode.InvalidArgument },
            { ErrorKind.NotFound, StatusCode.NotFound },
            { ErrorKind.AlreadyExists, StatusCode.AlreadyExists },
            { ErrorKind.OutOfSpace, StatusCode.ResourceExhausted },
            { ErrorKind.OutOfRange, StatusCode.OutOfRange },
            { ErrorKind.FailedPrecondition, StatusCode.FailedPrecondition },
            { ErrorKind.Aborted, StatusCode.Aborted },
            { ErrorKind.Unavailable, StatusCode.Unavailable },
            { ErrorKind.Timeout, StatusCode.DeadlineExceeded },
        };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Every_error_kind_becomes_its_status_code_with_the_message(ErrorKind kind, StatusCode code)
    {
        var e = await CallThrowing(new ZfsCsiException(kind, "what happened and what to do"));

        Assert.Equal(code, e.StatusCode);
        Assert.Equal("what happened and what to do", e.Status.Detail);
        Assert.Equal(code, ErrorMappingInterceptor.StatusFor(kind));
    }

    [Fact]
    public void Every_error_kind_there_is_has_a_test_row_and_none_maps_to_unknown_or_ok()
    {
        var tested = Kinds().Select(row => (ErrorKind)row[0]).ToHashSet();

        Assert.Equal(Enum.GetValues<ErrorKind>().ToHashSet(), tested);
        Assert.All(Enum.GetValues<ErrorKind>(), k =>
            Assert.NotEqual(StatusCode.Unknown, ErrorMappingInterceptor.StatusFor(k))
        );
        Assert.All(Enum.GetValues<ErrorKind>(), k =>
            Assert.NotEqual(StatusCode.OK, ErrorMappingInterceptor.StatusFor(k))
        );
    }

    public static TheoryData<Exception, StatusCode> TypedExceptions()
    {
        var command = new CommandLine("zfs", "destroy", "data/k8s/pvc-1");
        return new TheoryData<Exception, StatusCode>
        {
            { new InvalidInputException("x"), StatusCode.InvalidArgument },
            { new NotFoundException("x"), StatusCode.NotFound },
            { new AlreadyExistsException("x"), StatusCode.AlreadyExists },
            { new OutOfSpaceException("x"), StatusCode.ResourceExhausted },
            { new CapacityOutOfRangeException("x"), StatusCode.OutOfRange },
            { new FailedPreconditionException("x"), StatusCode.FailedPrecondition },
            { new OperationPendingException("x"), StatusCode.Aborted },
            { new InvalidPageTokenException("x"), StatusCode.Aborted },
            { new PoolUnavailableException("x"), StatusCode.Unavailable },
            { new CommandTimeoutException(command, TimeSpan.FromSeconds(30)), StatusCode.DeadlineExceeded },
            { new CommandFailedException(command, 1, "weird"), StatusCode.Internal },
            { new DatasetBusyException(command, 1, "dataset is busy"), StatusCode.FailedPrecondition },
            { new ZfsPoolUnavailableException(command, 1, "no such pool 'data'"), StatusCode.Unavailable },
            { new ZfsInvalidArgumentException(command, 1, "bad numeric value"), StatusCode.InvalidArgument },
        };
    }

    [Theory]
    [MemberData(nameof(TypedExceptions))]
    public async Task Every_domain_exception_maps_by_its_kind(Exception exception, StatusCode code)
    {
        Assert.Equal(code, (await CallThrowing(exception)).StatusCode);
    }

    [Fact]
    public async Task An_rpc_exception_passes_through_unchanged()
    {
        var thrown = new RpcException(new Status(StatusCode.Unimplemented, "not here"), [new Metadata.Entry("k", "v")]);

        var e = await CallThrowing(thrown);

        Assert.Same(thrown, e);
        Assert.Empty(_sink.Events);
    }

    [Theory]
    [InlineData(typeof(NullReferenceException))]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(IOException))]
    [InlineData(typeof(FormatException))]
    [InlineData(typeof(UnauthorizedAccessException))]
    public async Task Any_other_exception_is_internal_never_unknown_and_is_logged(Type type)
    {
        var e = await CallThrowing((Exception)Activator.CreateInstance(type, "boom")!);

        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.Contains("boom", e.Status.Detail);
        var logged = Assert.Single(_sink.Events);
        Assert.Equal(Serilog.Events.LogEventLevel.Error, logged.Level);
        Assert.Equal("\"/csi.v1.Controller/CreateVolume\"", logged.Properties["Method"].ToString());
    }

    [Fact]
    public async Task A_cancelled_call_is_cancelled()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        var e = await CallThrowing(
            new OperationCanceledException(cts.Token),
            new TestServerCallContext(cancellationToken: cts.Token)
        );

        Assert.Equal(StatusCode.Cancelled, e.StatusCode);
    }

    [Fact]
    public async Task A_cancellation_the_caller_did_not_ask_for_is_internal()
    {
        var e = await CallThrowing(new TaskCanceledException("timer"));

        Assert.Equal(StatusCode.Internal, e.StatusCode);
    }

    [Fact]
    public async Task A_successful_call_returns_the_response_untouched()
    {
        var response = new CreateVolumeResponse { Volume = new Volume { VolumeId = "data/k8s/pvc-1" } };

        var result = await Interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
            new CreateVolumeRequest(),
            new TestServerCallContext(),
            (_, _) => Task.FromResult(response)
        );

        Assert.Same(response, result);
    }

    [Fact]
    public async Task An_exception_thrown_before_the_first_await_is_mapped_too()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            Interceptor.UnaryServerHandler<CreateVolumeRequest, CreateVolumeResponse>(
                new CreateVolumeRequest(),
                new TestServerCallContext(),
                (_, _) => throw new NotFoundException("sync")
            )
        );

        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }
}
