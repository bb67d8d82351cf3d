namespace ZfsCsi.Bootstrap;

/// <summary>
/// A bootstrap step failed. <see cref="Exception.Message"/> says what happened and what to do;
/// <see cref="Step"/> names the step; <see cref="Retryable"/> is false when running the same step
/// again cannot help (missing headers, a pool that does not exist).
/// </summary>
public sealed class BootstrapException(string step, string message, bool retryable = false, Exception? inner = null)
    : Exception(message, inner)
{
    public string Step { get; } = step;
    public bool Retryable { get; } = retryable;
}
