using ZfsCsi.Core.Bootstrap;

namespace ZfsCsi.Tests.Bootstrap;

public sealed class BootstrapReadinessTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "zfs-csi-readiness-tests", Guid.NewGuid().ToString("N"));
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
        BootstrapStatusFile.Write(File, new BootstrapStatus { State = state, Reason = $"reason of {state}", Step = step, Heartbeat = DateTimeOffset.UtcNow - age, Watching = watching });

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
