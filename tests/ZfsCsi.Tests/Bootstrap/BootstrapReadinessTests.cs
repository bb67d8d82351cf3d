using ZfsCsi.Core.Bootstrap;

namespace ZfsCsi.Tests.Bootstrap;

public sealed class BootstrapReadinessTests : IDisposable
{
    private readonly string _dir = Path.Combine(
        Path.GetTempPath(),
        "zfs-csi-readiness-tests",
        Guid.NewGuid().ToString("N")
    );
    private string File => Path.Combine(_dir, "bootstrap.json");
    private readonly BootstrapReadiness _check;

    public BootstrapReadinessTests() => _check = new BootstrapReadiness(File, TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private void Write(BootstrapState state, TimeSpan age, bool watching = true, string step = "") =>
        BootstrapStatusFile.Write(
            File,
            new BootstrapStatus
            {
                State = state,
                Reason = $"reason of {state}",
                Step = step,
                Heartbeat = DateTimeOffset.UtcNow - age,
                Watching = watching,
            }
        );

    [Fact]
    public async Task A_missing_status_file_is_not_ready_and_says_where_it_looked()
    {
        var r = await _check.CheckAsync(CancellationToken.None);
        Assert.False(r.Ready);
        Assert.Contains(File, r.Reason, StringComparison.Ordinal);
        Assert.True((await _check.CheckLivenessAsync(CancellationToken.None)).Ready);
    }

    [Fact]
    public async Task A_rebuilding_bootstrap_is_not_ready_but_alive()
    {
        Write(BootstrapState.Rebuilding, TimeSpan.FromSeconds(2), step: "make -j2");
        var r = await _check.CheckAsync(CancellationToken.None);
        Assert.False(r.Ready);
        Assert.Contains("rebuilding at step 'make -j2'", r.Reason, StringComparison.Ordinal);
        Assert.True((await _check.CheckLivenessAsync(CancellationToken.None)).Ready);
    }

    [Fact]
    public async Task A_fresh_ready_status_is_ready()
    {
        Write(BootstrapState.Ready, TimeSpan.FromSeconds(1));
        Assert.True((await _check.CheckAsync(CancellationToken.None)).Ready);
    }

    [Fact]
    public async Task A_stale_ready_status_from_a_watch_sidecar_is_not_ready()
    {
        Write(BootstrapState.Ready, TimeSpan.FromMinutes(5));
        var r = await _check.CheckAsync(CancellationToken.None);
        Assert.False(r.Ready);
        Assert.Contains("stale", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ready_status_from_a_one_shot_run_stays_ready_after_it_exits()
    {
        Write(BootstrapState.Ready, TimeSpan.FromHours(5), watching: false);
        Assert.True((await _check.CheckAsync(CancellationToken.None)).Ready);
    }

    [Fact]
    public async Task A_step_without_heartbeat_for_too_long_is_not_alive()
    {
        Write(BootstrapState.Rebuilding, TimeSpan.FromMinutes(5), step: "make -j2");
        var r = await _check.CheckLivenessAsync(CancellationToken.None);
        Assert.False(r.Ready);
        Assert.Contains("stuck", r.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BootstrapState.Importing, 200, 300, false)]
    [InlineData(BootstrapState.Importing, 200, 100, true)]
    [InlineData(BootstrapState.Ready, 200, 300, false)]
    public async Task A_step_past_its_own_limit_plus_the_margin_is_not_alive_even_with_a_fresh_heartbeat(
        BootstrapState state,
        double limitSeconds,
        double runningSeconds,
        bool alive
    )
    {
        // A watch sidecar's routine re-check keeps State=ready while its step runs: it can hang too.
        BootstrapStatusFile.Write(
            File,
            new BootstrapStatus
            {
                State = state,
                Reason = "r",
                Step = "zpool import",
                RunningStep = "zpool import",
                Watching = true,
                Heartbeat = DateTimeOffset.UtcNow,
                StepStarted = DateTimeOffset.UtcNow.AddSeconds(-runningSeconds),
                StepLimitSeconds = limitSeconds,
            }
        );

        var r = await _check.CheckLivenessAsync(CancellationToken.None);

        Assert.Equal(alive, r.Ready);
        if (!alive)
        {
            // "300 s" or a second more: the check reads the clock a moment after the file was written.
            Assert.Matches("step 'zpool import' has run 30[0-9] s, past its limit of 200 s plus 60 s", r.Reason);
        }
    }

    [Fact]
    public async Task A_step_without_a_limit_is_judged_by_its_heartbeat_only()
    {
        BootstrapStatusFile.Write(
            File,
            new BootstrapStatus
            {
                State = BootstrapState.Rebuilding,
                Reason = "r",
                Step = "build lock",
                RunningStep = "build lock",
                Watching = true,
                Heartbeat = DateTimeOffset.UtcNow,
                StepStarted = DateTimeOffset.UtcNow.AddHours(-3),
            }
        );
        Assert.True((await _check.CheckLivenessAsync(CancellationToken.None)).Ready);
    }

    [Fact]
    public async Task A_garbled_file_is_not_ready_with_the_reason()
    {
        Directory.CreateDirectory(_dir);
        await System.IO.File.WriteAllTextAsync(File, "{not json");
        var r = await _check.CheckAsync(CancellationToken.None);
        Assert.False(r.Ready);
        Assert.Contains("unreadable", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Writing_replaces_the_file_atomically_and_leaves_no_temporary_file()
    {
        Write(BootstrapState.Checking, TimeSpan.Zero);
        Write(BootstrapState.Ready, TimeSpan.Zero);
        Assert.Equal(["bootstrap.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.Contains("\"state\": \"ready\"", System.IO.File.ReadAllText(File), StringComparison.Ordinal);
    }
}
