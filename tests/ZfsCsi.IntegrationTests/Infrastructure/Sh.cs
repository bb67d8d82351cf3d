using CliWrap;
using CliWrap.Buffered;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>Runs set-up and check commands for tests (argv only, with a timeout).</summary>
public static class Sh
{
    public static Task<BufferedCommandResult> RunAsync(string program, params string[] args) =>
        RunAsync(TimeSpan.FromSeconds(60), program, args);

    /// <summary>With a limit of its own: lab/cluster-up waits up to 60 s for each node.</summary>
    public static async Task<BufferedCommandResult> RunAsync(TimeSpan limit, string program, params string[] args)
    {
        using var timeout = new CancellationTokenSource(limit);
        return await Cli.Wrap(program)
            .WithArguments(args)
            .WithValidation(CommandResultValidation.None)
            .WithEnvironmentVariables(e => e.Set("LC_ALL", "C"))
            .ExecuteBufferedAsync(timeout.Token);
    }

    /// <summary>Runs and requires exit code 0; the exception shows argv, exit code and stderr.</summary>
    public static async Task<string> CheckAsync(string program, params string[] args)
    {
        var result = await RunAsync(program, args);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException(
                $"{program} {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardError.Trim()}"
            );
    }
}
