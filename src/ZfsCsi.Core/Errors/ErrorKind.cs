namespace ZfsCsi.Core.Errors;

/// <summary>
/// What kind of failure an exception is, in the domain's words. The driver's error-mapping
/// interceptor is the one place that turns a kind into a gRPC status code.
/// </summary>
public enum ErrorKind
{
    /// <summary>A bug or an unexpected failure of a command.</summary>
    Internal,

    /// <summary>Malformed input: a name, id, capability or parameter.</summary>
    InvalidInput,

    /// <summary>The object named does not exist.</summary>
    NotFound,

    /// <summary>An object of that name exists and does not match the request.</summary>
    AlreadyExists,

    /// <summary>No space left for the request.</summary>
    OutOfSpace,

    /// <summary>A capacity that can never be satisfied.</summary>
    OutOfRange,

    /// <summary>The object is busy or in a state that forbids the operation.</summary>
    FailedPrecondition,

    /// <summary>Abandoned, retry from the start: another operation on the same object is in flight, or a page token is not ours.</summary>
    Aborted,

    /// <summary>The pool or the node's /data is not reachable right now.</summary>
    Unavailable,

    /// <summary>A command hung past its timeout.</summary>
    Timeout,
}
