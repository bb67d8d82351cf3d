using Serilog;
using ZfsCsi.Core.Exec;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Exec;

/// <summary>The one real runner, on tiny programs every machine has (printf, sleep, sh): milliseconds each.</summary>
public sealed class CliWrapCommandRunnerTests
{
    private readonly InMemorySink _sink = new();

    private CliWrapCommandRunner Runner => new(_sink.CreateLogger());

    [Fact]
    public async Task Arguments_reach_the_program_as_argv_never_through_a_shell()
    {
        var result = await Runner.RunAsync(
            new CommandLine("printf", "%s|", "a b", "$(echo pwned)", "'q'", ";", "*"),
            TimeSpan.FromSeconds(10)
        );

        Assert.True(result.Succeeded);
        Assert.Equal("a b|$(echo pwned)|'q'|;|*|", result.StandardOutput);
    }

    [Fact]
    public async Task A_non_zero_exit_is_data_with_stderr_not_an_exception()
    {
        var result = await Runner.RunAsync(
            new CommandLine("sh", "-c", "echo oops >&2; exit 3"),
            TimeSpan.FromSeconds(10)
        );

        Assert.False(result.Succeeded);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("oops\n", result.StandardError);
    }

    [Fact]
    public async Task Commands_run_in_the_C_locale_so_error_text_stays_parseable()
    {
        var result = await Runner.RunAsync(
            new CommandLine("sh", "-c", "printf %s \"$LC_ALL\""),
            TimeSpan.FromSeconds(10)
        );

        Assert.Equal("C", result.StandardOutput);
    }

    [Fact]
    public async Task A_command_past_its_timeout_is_killed_and_throws_command_timeout()
    {
        var command = new CommandLine("sleep", "30");
        var started = DateTime.UtcNow;

        var e = await Assert.ThrowsAsync<CommandTimeoutException>(() =>
            Runner.RunAsync(command, TimeSpan.FromMilliseconds(200))
        );

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        Assert.Equal(command, e.Command);
        Assert.Equal(Core.Errors.ErrorKind.Timeout, e.Kind);
    }

    [Fact]
    public async Task The_callers_cancellation_is_a_cancellation_not_a_timeout()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Runner.RunAsync(new CommandLine("sleep", "30"), TimeSpan.FromSeconds(30), cts.Token)
        );

        Assert.IsNotType<CommandTimeoutException>(e);
    }

    [Fact]
    public async Task A_program_that_does_not_exist_is_a_command_failure_with_argv()
    {
        var command = new CommandLine("/nonexistent/zfs", "get");

        var e = await Assert.ThrowsAsync<CommandFailedException>(() =>
            Runner.RunAsync(command, TimeSpan.FromSeconds(10))
        );

        Assert.Equal(command, e.Command);
        Assert.Equal(-1, e.ExitCode);
        Assert.Contains("/nonexistent/zfs", e.Message);
    }

    [Fact]
    public async Task Each_command_is_logged_with_argv_exit_code_and_duration()
    {
        await Runner.RunAsync(new CommandLine("sh", "-c", "exit 4"), TimeSpan.FromSeconds(10));

        var e = Assert.Single(_sink.Events, e => e.Properties.ContainsKey("ExitCode"));
        Assert.Equal("4", e.Properties["ExitCode"].ToString());
        Assert.Contains("exit 4", e.Properties["Argv"].ToString());
        Assert.True(e.Properties.ContainsKey("DurationMs"));
    }
}
