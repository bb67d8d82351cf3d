using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.Programs;

/// <summary>
/// The built programs as an operator starts them: help, a wrong flag, the log format. A wrong
/// flag must stop the program before it touches anything, with the reason and the usage.
/// </summary>
public sealed class CommandLineTests
{
    public static TheoryData<string> Programs => new() { "zfs-csi-driver", "zfs-csi-bootstrap" };

    [Theory]
    [MemberData(nameof(Programs))]
    public async Task Help_prints_the_usage_and_exits_0(string program)
    {
        var result = await Sh.RunAsync("dotnet", ProgramDll(program), "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--", result.StandardOutput);
        Assert.Empty(result.StandardError);
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public async Task An_unknown_flag_exits_2_naming_the_flag_with_the_usage(string program)
    {
        var result = await Sh.RunAsync("dotnet", ProgramDll(program), "--no-such-flag", "1");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"{program}: ", result.StandardError);
        Assert.Contains("--no-such-flag", result.StandardError);
        Assert.Contains("--log-format", result.StandardError); // the usage follows the reason
    }

    [Theory]
    [InlineData(
        "zfs-csi-driver",
        "--zfs-timeout: '0' is below the minimum 0.001s",
        "--mode",
        "controller",
        "--zfs-timeout",
        "0"
    )]
    [InlineData(
        "zfs-csi-driver",
        "--sshfs-alive-count: '601' is above the maximum 600",
        "--mode=controller",
        "--sshfs-alive-count=601"
    )]
    [InlineData(
        "zfs-csi-bootstrap",
        "--interval: '0' is not more than 0s",
        "watch",
        "--pool",
        "data",
        "--interval",
        "0"
    )]
    [InlineData("zfs-csi-bootstrap", "--no-import takes no value", "once", "--pool=data", "--no-import=yes")]
    public async Task A_bad_value_exits_2_naming_the_flag_the_value_and_the_bound(
        string program,
        string reason,
        params string[] args
    )
    {
        var result = await Sh.RunAsync("dotnet", [ProgramDll(program), .. args]);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"{program}: {reason}\n", result.StandardError);
        Assert.Empty(result.StandardOutput);
    }

    [Theory]
    [InlineData("zfs-csi-driver", "--mode", "controller")]
    [InlineData("zfs-csi-bootstrap", "once")]
    public async Task An_unknown_log_format_is_refused(string program, params string[] otherwiseValid)
    {
        var result = await Sh.RunAsync("dotnet", [ProgramDll(program), .. otherwiseValid, "--log-format", "xml"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("xml", result.StandardError);
    }

    [Fact]
    public async Task The_bootstrap_logs_one_json_object_per_line_when_asked()
    {
        // The liveness check of a status file that does not exist: quick, and touches nothing.
        var statusFile = $"/tmp/zfs-csi-tests/no-status-{Guid.NewGuid():N}.json";
        var result = await Sh.RunAsync(
            "dotnet",
            ProgramDll("zfs-csi-bootstrap"),
            "once",
            "--module",
            "none",
            "--pool",
            $"zcsitnope{Environment.ProcessId}",
            "--no-import",
            "--status-file",
            statusFile,
            "--log-format",
            "json"
        );
        File.Delete(statusFile);

        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.StartsWith("{\"@t\":", l));
    }

    private static string ProgramDll(string program) =>
        Repository.ProgramDll(program == "zfs-csi-driver" ? "ZfsCsi.Driver" : "ZfsCsi.Bootstrap", program);
}
