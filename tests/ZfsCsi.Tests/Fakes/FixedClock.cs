namespace ZfsCsi.Tests.Fakes;

/// <summary>A clock that says what the test sets.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
