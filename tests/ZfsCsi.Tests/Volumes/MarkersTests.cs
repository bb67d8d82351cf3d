using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Volumes;

public sealed class MarkersTests
{
    [Theory]
    [InlineData("pvc-1")]
    [InlineData("tab\there")]
    [InlineData("new\nline\r\n")]
    [InlineData("caf\u00e9 \u30dc\u30ea\u30e5\u30fc\u30e0 \U0001F600")]
    [InlineData("'quotes' \"and\" $(subshells)")]
    [InlineData("nul\0control\u0001")]
    public void A_name_round_trips_through_its_marker(string name)
    {
        Assert.Equal(name, Markers.DecodeName(Markers.EncodeName(name)));
    }

    [Theory]
    [InlineData("tab\there")]
    [InlineData("new\nline")]
    [InlineData("space and = sign")]
    public void An_encoded_name_is_safe_in_tab_separated_output_and_argv(string name)
    {
        var encoded = Markers.EncodeName(name);

        Assert.Matches("^[A-Za-z0-9_-]*$", encoded);
        var row = Assert.Single(ZfsParser.ParseGet($"data/k8s/x\t{Markers.CsiName}\t{encoded}\tlocal\n"));
        Assert.Equal(name, Markers.DecodeName(row.Value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("-")]
    [InlineData("not base64!")]
    [InlineData("a")]
    public void A_value_the_driver_did_not_write_decodes_to_null(string? value)
    {
        Assert.Null(Markers.DecodeName(value));
    }

    [Fact]
    public void Every_marker_is_a_user_property_of_the_driver()
    {
        Assert.All(new[] { Markers.CsiName, Markers.ParametersDigest, Markers.State }, m =>
        {
            Assert.StartsWith("zfs-csi:", m);
            Assert.Equal(m.ToLowerInvariant(), m);
        });
    }
}
