namespace ZfsCsi.Core.Errors;

/// <summary>
/// Base of every error the domain throws on purpose. <see cref="Kind"/> decides the status code
/// (in the driver's one error-mapping interceptor); the message is shown to the caller as is,
/// so it says what happened and what to do.
/// </summary>
public class ZfsCsiException(ErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public ErrorKind Kind { get; } = kind;
}

/// <summary>The request is malformed: a name, id, capability or parameter the driver cannot accept.</summary>
public sealed class InvalidInputException(string message) : ZfsCsiException(ErrorKind.InvalidInput, message);

/// <summary>The volume or snapshot the request names does not exist.</summary>
public sealed class NotFoundException(string message) : ZfsCsiException(ErrorKind.NotFound, message);

/// <summary>An object with this name exists but is incompatible with the request.</summary>
public sealed class AlreadyExistsException(string message) : ZfsCsiException(ErrorKind.AlreadyExists, message);

/// <summary>The pool has no room for what was asked.</summary>
public sealed class OutOfSpaceException(string message) : ZfsCsiException(ErrorKind.OutOfSpace, message);

/// <summary>The requested capacity can never be met by this driver or pool.</summary>
public sealed class CapacityOutOfRangeException(string message) : ZfsCsiException(ErrorKind.OutOfRange, message);

/// <summary>The object is in use or in a state that forbids the operation.</summary>
public sealed class FailedPreconditionException(string message)
    : ZfsCsiException(ErrorKind.FailedPrecondition, message);

/// <summary>Another operation on the same volume or name is in progress; the caller retries.</summary>
public sealed class OperationPendingException(string message) : ZfsCsiException(ErrorKind.Aborted, message);

/// <summary>A starting_token this driver did not issue (CSI spec: ABORTED for ListVolumes and ListSnapshots).</summary>
public sealed class InvalidPageTokenException(string message) : ZfsCsiException(ErrorKind.Aborted, message);

/// <summary>The pool is not imported, or the parent dataset is missing: nothing can be decided now.</summary>
public sealed class PoolUnavailableException(string message) : ZfsCsiException(ErrorKind.Unavailable, message);
