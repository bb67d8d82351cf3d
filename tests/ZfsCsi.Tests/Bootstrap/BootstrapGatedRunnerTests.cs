using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Exec;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Bootstrap;

public sealed class BootstrapGatedRunnerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "zfs-csi-gate-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeCommandRunner _inner = new();
    private readonly BootstrapGatedRunner _gate;

    public BootstrapGatedRunnerTests()
    {
        Directory.CreateDirectory(_dir);
        _gate = new BootstrapGatedRunner(
            _inner,
            new BootstrapReadiness(StatusFile, TimeSpan.FromSeconds(60)),
            new HashSet<string> { "zfs", "zpool" }
        );
        _inner.OnZfs("list").Returns("data\n");
        _inner.On("ssh").Returns();
    }

    private string StatusFile => Path.Combine(_dir, "bootstrap.json");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(BootstrapState state) =>
        BootstrapStatusFile.Write(
            StatusFile,
            new BootstrapStatus
            {
                State = state,
                Reason = $"reason of {state}",
                Step = "make -j2",
                Heartbeat = DateTimeOffset.UtcNow,
                Watching = true,
            }
        );

    [Fact]
    public async Task A_zfs_command_while_the_bootstrap_rebuilds_fails_as_unavailable_with_its_reason_and_never_starts()
    {
        Write(BootstrapState.Rebuilding);
        var e = await Assert.ThrowsAsync<StorageNotReadyException>(() =>
            _gate.RunAsync(new CommandLine("zfs", "list"), TimeSpan.FromSeconds(5))
        );
        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Contains("rebuilding at step 'make -j2'", e.Message, StringComparison.Ordinal);
        Assert.Contains("retry", e.Message, StringComparison.Ordinal);
        Assert.Empty(_inner.Commands);
    }

    [Fact]
    public async Task Before_the_bootstrap_first_reports_no_zpool_command_starts_either()
    {
        await Assert.ThrowsAsync<StorageNotReadyException>(() =>
            _gate.RunStreamingAsync(new CommandLine("zpool", "list"), TimeSpan.FromSeconds(5), _ => { })
        );
        Assert.Empty(_inner.Commands);
    }

    [Fact]
    public async Task Once_the_bootstrap_is_ready_zfs_commands_run()
    {
        Write(BootstrapState.Ready);
        var result = await _gate.RunAsync(new CommandLine("zfs", "list"), TimeSpan.FromSeconds(5));
        Assert.Equal("data\n", result.StandardOutput);
    }

    [Fact]
    public async Task Programs_other_than_zfs_and_zpool_are_not_gated()
    {
        await _gate.RunAsync(new CommandLine("ssh", "alice"), TimeSpan.FromSeconds(5));
        Assert.Single(_inner.Commands);
    }
}
