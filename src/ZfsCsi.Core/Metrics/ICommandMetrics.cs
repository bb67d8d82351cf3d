using ZfsCsi.Core.Exec;

namespace ZfsCsi.Core.Metrics;

/// <summary>How one external command ended, as the command runner saw it.</summary>
public enum CommandOutcome
{
    /// <summary>Exited 0.</summary>
    Succeeded,

    /// <summary>Exited non-zero. Not always an error (a lookup of a dataset that does not exist), but worth a rate.</summary>
    ExitedNonZero,

    /// <summary>Ran past its timeout and was killed.</summary>
    TimedOut,

    /// <summary>The program could not be started (missing, not executable).</summary>
    NotStarted,
}

/// <summary>
/// Told about every external command by the one command runner. The Core records through this
/// seam so it does not depend on a metrics library; the driver's implementation exports it.
/// </summary>
public interface ICommandMetrics
{
    void Observe(CommandLine command, CommandOutcome outcome, TimeSpan elapsed);
}
