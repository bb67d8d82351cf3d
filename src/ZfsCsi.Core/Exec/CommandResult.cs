namespace ZfsCsi.Core.Exec;

/// <summary>What a finished command returned. A non-zero exit code is data here, not an exception:
/// the caller knows what the command's failures mean.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;
}
