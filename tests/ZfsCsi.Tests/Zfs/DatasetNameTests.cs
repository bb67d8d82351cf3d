using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Tests.Zfs;

public sealed class DatasetNameTests
{
    [Theory]
    [InlineData("data")]
    [InlineData("data/k8s")]
    [InlineData("data/k8s/pvc-5f0c1a9e-3b7d-4c2a-9e61-0d8f2b6a7c11")]
    [InlineData("data/k8s/h-0123456789abcdef0123456789abcdef")]
    [InlineData("Data_1/a.b:c-d")]
    [InlineData("data/...")]
    [InlineData("data/a-")]
    public void Valid_names_parse(string value)
    {
        Assert.True(DatasetName.TryParse(value, out var name, out var why), why);
        Assert.Equal(value, name.Value);
        Assert.Equal(value, name.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("/data")]
    [InlineData("data/")]
    [InlineData("data//k8s")]
    [InlineData("data/./k8s")]
    [InlineData("data/k8s/.")]
    [InlineData("data/k8s/..")]
    [InlineData("..")]
    [InlineData("-data")]
    [InlineData("data/-rf")]
    [InlineData("data/k8s@snap")]
    [InlineData("data/k8s#bookmark")]
    [InlineData("data/k8s%internal")]
    [InlineData("data/a b")]
    [InlineData("data/'quoted'")]
    [InlineData("data/$(rm -rf)")]
    [InlineData("data/caf\u00e9")]
    [InlineData("data/\u0434\u0430\u043d\u043d\u044b\u0435")]
    [InlineData("data/tab\there")]
    [InlineData("data/new\nline")]
    [InlineData("data/nul\0byte")]
    [InlineData("data/esc\u001b[31m")]
    [InlineData("data/del\u007f")]
    public void Invalid_names_do_not_parse_and_say_why(string? value)
    {
        Assert.False(DatasetName.TryParse(value, out _, out var why));
        Assert.False(string.IsNullOrWhiteSpace(why));
        Assert.Throws<FormatException>(() => DatasetName.Parse(value!));
    }

    [Fact]
    public void An_empty_component_is_not_a_valid_dataset_component()
    {
        Assert.False(DatasetName.IsValidComponent("", out _));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public void Dot_and_dot_dot_are_not_valid_dataset_components(string component)
    {
        Assert.False(DatasetName.IsValidComponent(component, out var why));
        Assert.Contains(component, why);
    }

    [Fact]
    public void A_leading_dash_is_not_a_valid_dataset_component()
    {
        Assert.False(DatasetName.IsValidComponent("-o", out var why));
        Assert.Contains("'-'", why);
    }

    [Fact]
    public void Control_characters_are_escaped_in_the_reason()
    {
        Assert.False(DatasetName.TryParse("data/a\nb", out _, out var why));

        Assert.DoesNotContain('\n', why);
        Assert.Contains("\\x0a", why);
    }

    [Fact]
    public void A_name_of_255_bytes_is_valid_and_one_of_256_is_not()
    {
        var at = "data/" + new string('a', DatasetName.MaxLength - 5);
        var over = at + "a";

        Assert.True(DatasetName.TryParse(at, out _, out _));
        Assert.False(DatasetName.TryParse(over, out _, out var why));
        Assert.Contains("255", why);
    }

    [Fact]
    public void Parent_leaf_and_pool_of_a_volume()
    {
        var name = DatasetName.Parse("data/k8s/pvc-1");

        Assert.Equal("data", name.Pool);
        Assert.Equal("pvc-1", name.Leaf);
        Assert.Equal(DatasetName.Parse("data/k8s"), name.Parent);
        Assert.Equal(DatasetName.Parse("data"), name.Parent!.Value.Parent);
    }

    [Fact]
    public void A_pool_has_no_parent_and_is_its_own_leaf_and_pool()
    {
        var pool = DatasetName.Parse("data");

        Assert.Null(pool.Parent);
        Assert.Equal("data", pool.Leaf);
        Assert.Equal("data", pool.Pool);
    }

    [Theory]
    [InlineData("data/k8s/pvc-1", "data/k8s", true)]
    [InlineData("data/k8s", "data", true)]
    [InlineData("data/k8s/pvc-1/inner", "data/k8s", false)]
    [InlineData("data/k8s", "data/k8s", false)]
    [InlineData("data/k8s2/pvc-1", "data/k8s", false)]
    [InlineData("data/k8sx", "data/k8s", false)]
    [InlineData("data", "data/k8s", false)]
    [InlineData("other/k8s/pvc-1", "data/k8s", false)]
    public void Is_direct_child_of_only_one_level_below(string child, string parent, bool expected)
    {
        Assert.Equal(expected, DatasetName.Parse(child).IsDirectChildOf(DatasetName.Parse(parent)));
    }

    [Fact]
    public void Child_appends_one_valid_component()
    {
        Assert.Equal("data/k8s/pvc-1", DatasetName.Parse("data/k8s").Child("pvc-1").Value);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("-x")]
    [InlineData("")]
    [InlineData("a@b")]
    [InlineData("a/b")]
    public void Child_refuses_an_invalid_component(string leaf)
    {
        Assert.Throws<ArgumentException>(() => DatasetName.Parse("data/k8s").Child(leaf));
    }
}
