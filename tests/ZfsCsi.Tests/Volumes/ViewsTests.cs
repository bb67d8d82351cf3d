using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using static ZfsCsi.Tests.Fakes.ZfsScript;

namespace ZfsCsi.Tests.Volumes;

/// <summary>When CreateVolume makes a read-only view, the view parameter, and what a view refuses (expand, modify to writable).</summary>
public sealed class ViewsTests : VolumeManagerHarness
{
    private static readonly ContentSource Snapshot = new(ContentSourceKind.Snapshot, "data/k8s/pvc-a@snap-1");
    private static readonly ContentSource SourceVolume = new(ContentSourceKind.Volume, "data/k8s/pvc-a");

    [Fact]
    public void Auto_makes_a_view_of_a_snapshot_only_when_every_mode_is_reader_only()
    {
        Assert.True(Views.Decide(ViewMode.Auto, Snapshot, everyModeReaderOnly: true));
        Assert.False(Views.Decide(ViewMode.Auto, Snapshot, everyModeReaderOnly: false));
        Assert.False(Views.Decide(ViewMode.Auto, SourceVolume, everyModeReaderOnly: true));
        Assert.False(Views.Decide(ViewMode.Auto, null, everyModeReaderOnly: true));
    }

    [Fact]
    public void Never_always_clones()
    {
        Assert.False(Views.Decide(ViewMode.Never, Snapshot, everyModeReaderOnly: true));
    }

    [Fact]
    public void Always_makes_a_view_of_a_snapshot_read_with_reader_only_modes()
    {
        Assert.True(Views.Decide(ViewMode.Always, Snapshot, everyModeReaderOnly: true));
    }

    [Fact]
    public void Always_with_a_writer_mode_is_invalid_argument_that_names_the_access_modes()
    {
        var e = Assert.Throws<InvalidInputException>(() => Views.Decide(ViewMode.Always, Snapshot, false));
        Assert.Contains("ReadOnlyMany", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Always_without_a_snapshot_source_is_invalid_argument()
    {
        Assert.Throws<InvalidInputException>(() => Views.Decide(ViewMode.Always, null, true));
        Assert.Throws<InvalidInputException>(() => Views.Decide(ViewMode.Always, SourceVolume, true));
    }

    [Theory]
    [InlineData("auto", ViewMode.Auto)]
    [InlineData("always", ViewMode.Always)]
    [InlineData("never", ViewMode.Never)]
    public void The_view_parameter_is_parsed(string value, ViewMode mode)
    {
        Assert.Equal(mode, VolumeParameters.Parse(new Dictionary<string, string> { ["view"] = value }).View);
    }

    [Fact]
    public void A_bad_view_value_is_invalid_argument()
    {
        Assert.Throws<InvalidInputException>(() =>
            VolumeParameters.Parse(new Dictionary<string, string> { ["view"] = "yes" })
        );
    }

    [Fact]
    public void View_auto_keeps_the_digest_volumes_had_before_the_key_existed_and_the_others_change_it()
    {
        var auto = VolumeParameters.Parse(new Dictionary<string, string> { ["view"] = "auto" });
        var always = VolumeParameters.Parse(new Dictionary<string, string> { ["view"] = "always" });

        Assert.Equal(VolumeParameters.Default.Digest, auto.Digest);
        Assert.NotEqual(VolumeParameters.Default.Digest, always.Digest);
    }

    [Fact]
    public void A_views_properties_are_readonly_on_and_the_marker_whatever_readonly_the_class_gave()
    {
        var properties = VolumeManager.ViewProperties([new("readonly", "off"), new("compression", "on")]);

        Assert.Equal([new("compression", "on"), new("readonly", "on"), new(Markers.View, Markers.ViewOn)], properties);
    }

    private string AView(long refquota) => Ours(refquota: refquota) + Row(Dataset, Markers.View, "on", "local");

    [Fact]
    public async Task Expanding_a_view_beyond_its_size_is_out_of_range_and_sets_nothing()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(AView(GiB));

        var e = await Assert.ThrowsAsync<CapacityOutOfRangeException>(() =>
            Manager.ExpandAsync(Dataset, new CapacityRange(2 * GiB, 0), Ct)
        );

        Assert.Contains("read-only view", e.Message, StringComparison.Ordinal);
        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
    }

    [Fact]
    public async Task Expanding_a_view_to_its_own_size_is_ok_and_changes_nothing()
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(AView(GiB));

        Assert.Equal(GiB, await Manager.ExpandAsync(Dataset, new CapacityRange(GiB, 0), Ct));
        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
    }

    [Theory]
    [InlineData("property.readonly", "off")]
    [InlineData("provisioning", "thick")]
    public async Task A_modify_that_would_make_a_view_writable_or_thick_is_invalid_argument_and_sets_nothing(
        string key,
        string value
    )
    {
        Runner.OnZfs(GetVolume(Dataset)).Returns(AView(GiB));
        var mutable = MutableParameters.Parse(new Dictionary<string, string> { [key] = value });

        await Assert.ThrowsAsync<InvalidInputException>(() => Manager.ModifyAsync(Dataset, mutable, Ct));

        Assert.Equal([GetVolume(Dataset)], Runner.Argv);
    }

    [Fact]
    public async Task A_view_is_reported_as_one_with_its_snapshot_as_source()
    {
        Runner
            .OnZfs(GetVolume(Dataset))
            .Returns(
                AView(GiB)
                    + Row(
                        Dataset,
                        Markers.Source,
                        new ContentSource(ContentSourceKind.Snapshot, Snapshot.Id).Marker,
                        "local"
                    )
            );

        var volume = await Manager.GetAsync(Dataset, Ct);

        Assert.True(volume.IsView);
        Assert.Equal(Snapshot, volume.Source);
    }

    [Fact]
    public async Task A_view_of_a_volume_source_is_invalid_argument_and_runs_nothing()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Manager.CreateViewAsync(
                Name,
                CapacityRange.Unspecified,
                VolumeParameters.Default,
                MutableParameters.None,
                SourceVolume,
                Ct
            )
        );
        Assert.Empty(Runner.Argv);
    }

    [Theory]
    [InlineData("provisioning", "thick")]
    [InlineData("property.readonly", "off")]
    public async Task A_view_with_mutable_parameters_a_view_cannot_hold_is_invalid_argument_and_runs_nothing(
        string key,
        string value
    )
    {
        var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
            Manager.CreateViewAsync(
                Name,
                CapacityRange.Unspecified,
                VolumeParameters.Default,
                MutableParameters.Parse(new Dictionary<string, string> { [key] = value }),
                Snapshot,
                Ct
            )
        );

        Assert.Contains("view: never", e.Message, StringComparison.Ordinal);
        Assert.Empty(Runner.Argv);
    }
}
