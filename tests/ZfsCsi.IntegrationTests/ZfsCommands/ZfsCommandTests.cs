using ZfsCsi.Core.Zfs;

namespace ZfsCsi.IntegrationTests.ZfsCommands;

/// <summary>
/// Every zfs/zpool argv the driver builds and every error text it classifies, on the real pool of
/// the backend the run is for: zfs-fuse here (every run), OpenZFS 2.3 in the storage host VM
/// (lab/test's OpenZFS stage runs this class with <c>ZFS_CSI_BACKEND=openzfs</c>). The argv builders
/// and the error table are pure and have exact unit tests on captured text; these say the text is
/// what the real backends print.
/// </summary>
[Trait("Backend", "both")]
public sealed class ZfsCommandTests(ScratchDatasets scratch) : IClassFixture<ScratchDatasets>
{
    public static TheoryData<string> Builders => [.. ZfsArgvCases.Builders.Where(ZfsArgvCases.Cases.ContainsKey)];

    public static TheoryData<string> ErrorTexts => [.. ZfsErrorCases.All.Select(c => c.Text)];

    [Theory]
    [MemberData(nameof(Builders))]
    public async Task The_argv_the_driver_builds_does_on_the_backend_what_the_driver_relies_on(string builder)
    {
        await ZfsArgvCases.Cases[builder](scratch);
    }

    [Theory]
    [MemberData(nameof(ErrorTexts))]
    public async Task What_the_backend_prints_for_a_failure_is_classified_as_the_error_the_driver_expects(string text)
    {
        var @case = ZfsErrorCases.All.Single(c => c.Text == text);
        var (command, result) = await @case.Provoke(scratch);
        var backend = scratch.Backend;
        Assert.False(result.Succeeded, $"{backend}: {@case.Situation} ({command}) succeeded");
        if (@case.PrintedBy.Contains(backend))
        {
            Assert.True(
                result.StandardError.Contains(text, StringComparison.OrdinalIgnoreCase),
                $"{backend}: {@case.Situation} ({command}) printed no '{text}': {result.StandardError.Trim()}"
            );
        }
        var classified = ZfsErrors.Classify(command, result);
        Assert.True(
            classified.GetType() == @case.Expected,
            $"{backend}: {@case.Situation} ({command}) printed '{result.StandardError.Trim()}', classified as {classified.GetType().Name}, expected {@case.Expected.Name}"
        );
    }
}
