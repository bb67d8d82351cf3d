using ZfsCsi.Core.Zfs;

namespace ZfsCsi.IntegrationTests.ZfsCommands;

/// <summary>
/// The OpenZFS coverage rule: every argv builder and every error-table text has a test that runs on
/// real OpenZFS (and on zfs-fuse). A builder or a text added without one fails here, by name.
/// </summary>
public sealed class ZfsCommandCoverageTests
{
    /// <summary>
    /// Texts with no OpenZFS test yet, each with why: the one open gap, listed so that it stays visible
    /// and any other text without a case still fails here.
    /// </summary>
    private static readonly Dictionary<string, string> KnownGaps = new(StringComparer.Ordinal)
    {
        ["pool i/o is currently suspended"] =
            "needs a pool that lost every copy of its data: a one-disk pool on a hot-plugged virtio disk, pulled "
            + "(qemu device_del) with failmode=continue, stayed ONLINE with write errors instead of suspending (2026-12-02)",
    };

    [Fact]
    public void Every_argv_builder_has_a_case_that_runs_it_on_both_backends()
    {
        var missing = ZfsArgvCases.Builders.Where(b => !ZfsArgvCases.Cases.ContainsKey(b)).ToList();
        Assert.True(
            missing.Count == 0,
            $"ZfsArgs builders with no case in tests/ZfsCsi.IntegrationTests/ZfsCommands/ZfsArgvCases.cs: {string.Join(", ", missing)}"
        );
        var stale = ZfsArgvCases.Cases.Keys.Where(k => !ZfsArgvCases.Builders.Contains(k)).ToList();
        Assert.True(stale.Count == 0, $"cases for builders ZfsArgs no longer has: {string.Join(", ", stale)}");
    }

    [Fact]
    public void Every_error_text_has_a_test_that_makes_real_OpenZFS_fail_that_way()
    {
        var covered = ZfsErrorCases.All.Select(c => c.Text).Concat(KnownGaps.Keys).ToHashSet(StringComparer.Ordinal);
        var missing = ZfsErrors.Texts.Where(t => !covered.Contains(t)).ToList();
        Assert.True(
            missing.Count == 0,
            $"error texts of ZfsErrors with no test on OpenZFS (a case in ZfsErrorCases.cs): {string.Join(", ", missing.Select(t => $"'{t}'"))}"
        );
        var unknown = covered.Where(t => !ZfsErrors.Texts.Contains(t)).ToList();
        Assert.True(unknown.Count == 0, $"tests for texts ZfsErrors does not have: {string.Join(", ", unknown)}");
    }
}
