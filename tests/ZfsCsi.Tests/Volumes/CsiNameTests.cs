using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Tests.Volumes;

public sealed class CsiNameTests
{
    [Theory]
    [InlineData('\u0000')]
    [InlineData('\u0008')]
    [InlineData('\u000b')]
    [InlineData('\u000c')]
    [InlineData('\u000e')]
    [InlineData('\u001f')]
    [InlineData('\u007f')]
    [InlineData('\u0080')]
    [InlineData('\u009f')]
    public void Every_banned_control_character_is_refused_with_its_code_point(char banned)
    {
        var e = Assert.Throws<InvalidInputException>(() => CsiName.Validate($"pvc{banned}x", "volume"));

        Assert.Contains($"U+{(int)banned:X4}", e.Message);
        Assert.DoesNotContain(banned, e.Message);
    }

    [Theory]
    [InlineData("tab\there")]
    [InlineData("new\nline")]
    [InlineData("cr\rhere")]
    [InlineData("ünïcödé ☃")]
    [InlineData("\u00a0no-break space")]
    public void Whitespace_the_spec_allows_and_other_unicode_pass(string name) => CsiName.Validate(name, "snapshot");

    [Fact]
    public void An_empty_name_and_one_over_128_bytes_are_refused()
    {
        Assert.Throws<InvalidInputException>(() => CsiName.Validate("", "group snapshot"));
        CsiName.Validate(new string('é', 64), "volume"); // exactly 128 bytes
        Assert.Throws<InvalidInputException>(() => CsiName.Validate(new string('é', 64) + "x", "volume"));
    }
}
