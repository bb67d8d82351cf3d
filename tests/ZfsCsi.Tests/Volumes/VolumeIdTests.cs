using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Volumes;

public sealed class VolumeIdTests
{
    private static readonly DatasetName Parent = DatasetName.Parse("data/k8s");

    [Theory]
    [InlineData("data/k8s/pvc-5f0c1a9e-3b7d-4c2a-9e61-0d8f2b6a7c11")]
    [InlineData("data/k8s/h-0123456789abcdef0123456789abcdef")]
    public void An_id_of_a_volume_inside_the_parent_parses(string id)
    {
        var parsed = VolumeId.TryParse(id, Parent);

        Assert.NotNull(parsed);
        Assert.Equal(id, parsed.Value.Value);
        Assert.Equal(id, parsed.Value.ToString());
    }

    [Theory]
    [InlineData("data")]
    [InlineData("data/k8s")]
    [InlineData("data/other/x")]
    [InlineData("data/k8s2/pvc-1")]
    [InlineData("tank/k8s/pvc-1")]
    [InlineData("data/k8s/a/b")]
    [InlineData("data/k8s/..")]
    [InlineData("data/k8s/.")]
    [InlineData("data/k8s/../k8s/pvc-1")]
    [InlineData("data/k8s/-rf")]
    [InlineData("data/k8s/pvc-1@snap")]
    [InlineData("data/k8s/Foreign")]
    [InlineData("data/k8s/pvc 1")]
    [InlineData("")]
    [InlineData("/data/k8s/pvc-1")]
    [InlineData("pvc-1")]
    public void Anything_else_is_not_one_of_ours(string id)
    {
        Assert.Null(VolumeId.TryParse(id, Parent));
    }

    [Fact]
    public void An_id_longer_than_128_bytes_is_not_one_of_ours()
    {
        var parent = DatasetName.Parse("d/" + new string('k', 70));
        var id = $"{parent}/{new string('a', 60)}";
        Assert.True(id.Length > VolumeId.MaxLength);

        Assert.Null(VolumeId.TryParse(id, parent));
    }
}
