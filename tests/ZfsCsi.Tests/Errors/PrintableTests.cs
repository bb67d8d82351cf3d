using ZfsCsi.Core.Errors;

namespace ZfsCsi.Tests.Errors;

public sealed class PrintableTests
{
    [Fact]
    public void Control_characters_are_shown_as_hex_escapes_so_a_name_cannot_forge_a_log_line()
    {
        Assert.Equal("pvc-1\\x0aINF forged\\x1b[2J", Printable.Of("pvc-1\nINF forged\u001b[2J"));
    }

    [Fact]
    public void Ordinary_text_is_returned_as_it_is()
    {
        const string name = "pvc-0b6c1f2e: ok/..";
        Assert.Same(name, Printable.Of(name));
    }

    [Fact]
    public void A_long_value_is_cut_and_marked_as_cut()
    {
        Assert.Equal("abc...", Printable.Of("abcdef", 3));
        Assert.Equal("abc", Printable.Of("abc", 3));
    }
}
