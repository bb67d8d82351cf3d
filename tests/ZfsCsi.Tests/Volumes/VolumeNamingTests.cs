using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Volumes;

public sealed class VolumeNamingTests
{
    [Theory]
    [InlineData("pvc-5f0c1a9e-3b7d-4c2a-9e61-0d8f2b6a7c11")]
    [InlineData("pvc-1")]
    [InlineData("vol_1.data")]
    public void Kubernetes_style_names_are_kept_as_they_are(string name)
    {
        Assert.Equal(name, VolumeNaming.LeafFor(name));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("../../etc")]
    [InlineData("vol@snap")]
    [InlineData("vol%x")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("-rf")]
    [InlineData("-o mountpoint=/")]
    [InlineData("my volume")]
    [InlineData(" pvc-1")]
    [InlineData("'quoted'")]
    [InlineData("\"double\"")]
    [InlineData("$(reboot)")]
    [InlineData("`reboot`")]
    [InlineData("tab\there")]
    [InlineData("new\nline")]
    [InlineData("caf\u00e9")]
    [InlineData("\u30dc\u30ea\u30e5\u30fc\u30e0")]
    [InlineData("cr\rlf\n")]
    [InlineData("no-break\u00a0space")]
    [InlineData("PVC-Upper")]
    [InlineData(".hidden")]
    [InlineData("_underscore")]
    public void Any_other_name_becomes_h_dash_and_32_hex_digits(string name)
    {
        var leaf = VolumeNaming.LeafFor(name);

        Assert.Matches("^h-[0-9a-f]{32}$", leaf);
        Assert.True(DatasetName.IsValidComponent(leaf, out var why), why);
        Assert.True(VolumeNaming.IsPlain(leaf));
    }

    [Fact]
    public void The_mapping_is_deterministic_and_tells_names_apart()
    {
        Assert.Equal(VolumeNaming.LeafFor("my volume"), VolumeNaming.LeafFor("my volume"));
        Assert.NotEqual(VolumeNaming.LeafFor("my volume"), VolumeNaming.LeafFor("my volume "));
        Assert.NotEqual(VolumeNaming.LeafFor("."), VolumeNaming.LeafFor(".."));
    }

    [Fact]
    public void A_name_of_63_plain_characters_is_kept_and_one_of_64_is_hashed()
    {
        var at = new string('a', VolumeNaming.MaxPlainLength);

        Assert.Equal(at, VolumeNaming.LeafFor(at));
        Assert.StartsWith("h-", VolumeNaming.LeafFor(at + "a"));
    }

    [Fact]
    public void Every_leaf_fits_under_the_longest_parent_within_128_bytes()
    {
        var parent = DatasetName.Parse("p/" + new string('k', VolumeOptions.MaxParentLength - 2));
        foreach (var name in new[] { new string('a', 63), new string('x', 128), "a/b" })
        {
            var id = parent.Child(VolumeNaming.LeafFor(name));
            Assert.True(id.Value.Length <= VolumeId.MaxLength, id.Value);
            Assert.NotNull(VolumeId.TryParse(id.Value, parent));
        }
    }

    [Fact]
    public void An_empty_name_is_invalid_input()
    {
        Assert.Throws<InvalidInputException>(() => VolumeNaming.LeafFor(""));
    }

    [Fact]
    public void A_name_of_128_bytes_is_accepted_and_one_of_129_is_invalid_input()
    {
        Assert.StartsWith("h-", VolumeNaming.LeafFor(new string('x', 128)));
        var e = Assert.Throws<InvalidInputException>(() => VolumeNaming.LeafFor(new string('x', 129)));
        Assert.Contains("128", e.Message);
    }

    [Fact]
    public void The_byte_limit_counts_utf8_bytes_not_characters()
    {
        // 43 characters of 3 bytes each: 129 bytes.
        Assert.Throws<InvalidInputException>(() => VolumeNaming.LeafFor(new string('\u30dc', 43)));
        Assert.StartsWith("h-", VolumeNaming.LeafFor(new string('\u30dc', 42)));
    }
}
