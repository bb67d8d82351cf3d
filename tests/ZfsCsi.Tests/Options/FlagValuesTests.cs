using ZfsCsi.Core.Options;

namespace ZfsCsi.Tests.Options;

public sealed class FlagValuesTests
{
    private static string Problem<T>(FlagValue<T> type, string text) =>
        Assert.Throws<FlagValueException>(() => type.Parse(text)).Message;

    [Theory]
    [InlineData("1", 1000)]
    [InlineData("0.25", 250)]
    [InlineData("1e1", 10_000)]
    [InlineData("60", 60_000)]
    public void Seconds_are_a_plain_number_within_the_bounds(string text, long milliseconds)
    {
        Assert.Equal(
            TimeSpan.FromMilliseconds(milliseconds),
            FlagValues.Seconds(Bounds.AtLeast(0.25).AtMost(60)).Parse(text)
        );
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("30s")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("1,5")]
    public void Seconds_refuse_what_is_not_a_finite_number(string text)
    {
        Assert.Equal("is not a number of seconds", Problem(FlagValues.Seconds(Bounds.None), text));
    }

    [Fact]
    public void Seconds_name_the_bound_they_miss_with_its_unit()
    {
        var inclusive = FlagValues.Seconds(Bounds.AtLeast(1).AtMost(600));
        var exclusive = FlagValues.Seconds(Bounds.Above(0).Below(3600));

        Assert.Equal("is below the minimum 1s", Problem(inclusive, "0.5"));
        Assert.Equal("is above the maximum 600s", Problem(inclusive, "600.5"));
        Assert.Equal("is not more than 0s", Problem(exclusive, "0"));
        Assert.Equal("is not less than 3600s", Problem(exclusive, "3600"));
        Assert.Equal(TimeSpan.FromSeconds(600), inclusive.Parse("600"));
        Assert.Equal("1s to 600s", inclusive.Accepts);
        Assert.Equal("more than 0s and less than 3600s", exclusive.Accepts);
    }

    [Theory]
    [InlineData("1e300")]
    [InlineData("1e12")]
    public void Unbounded_seconds_still_refuse_what_a_timespan_cannot_hold(string text)
    {
        Assert.StartsWith("is above the maximum", Problem(FlagValues.Seconds(Bounds.Above(0)), text));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1.0")]
    [InlineData("2.5")]
    [InlineData("99999999999")]
    [InlineData("x")]
    public void Whole_numbers_are_digits_only(string text)
    {
        Assert.Equal("is not a whole number", Problem(FlagValues.Whole(Bounds.None), text));
    }

    [Fact]
    public void Whole_numbers_print_their_bounds_with_the_unit_given()
    {
        var seconds = FlagValues.Whole(Bounds.AtLeast(1).AtMost(600), "s");

        Assert.Equal(30, seconds.Parse("30"));
        Assert.Equal("is above the maximum 600s", Problem(seconds, "601"));
        Assert.Equal("1s to 600s", seconds.Accepts);
        Assert.Equal("at least 1", FlagValues.Whole(Bounds.AtLeast(1)).Accepts);
        Assert.Null(FlagValues.Whole(Bounds.None).Accepts);
    }

    [Theory]
    [InlineData("512", 512L)]
    [InlineData("1K", 1024L)]
    [InlineData("64m", 64L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("1T", 1L << 40)]
    public void Sizes_take_binary_suffixes_as_zfs_does(string text, long bytes)
    {
        Assert.Equal(bytes, FlagValues.Size(Bounds.None).Parse(text));
    }

    [Theory]
    [InlineData("1.5G")]
    [InlineData("G")]
    [InlineData("-1")]
    [InlineData("1P")]
    [InlineData("9999999999T")]
    public void Other_sizes_are_refused(string text)
    {
        Assert.StartsWith("is not a size", Problem(FlagValues.Size(Bounds.None), text));
    }

    [Fact]
    public void Sizes_check_bounds_in_bytes_and_print_with_the_largest_exact_suffix()
    {
        var size = FlagValues.Size(Bounds.AtLeast(1 << 20));

        Assert.Equal("is below the minimum 1048576 bytes", Problem(size, "1023K"));
        Assert.Equal("1M", size.Format(1 << 20));
        Assert.Equal("1536K", size.Format(1536 * 1024));
        Assert.Equal("1000", size.Format(1000));
    }

    [Fact]
    public void Choices_match_exactly_or_ignoring_case_and_print_the_first_name_of_a_value()
    {
        var exact = FlagValues.Choice(false, ("kernel", 1), ("none", 2), ("fuse", 2));
        var loose = FlagValues.Choice(true, ("node", 1), ("both", 2));

        Assert.Equal(2, exact.Parse("fuse"));
        Assert.Equal("is not kernel, none or fuse", Problem(exact, "Kernel"));
        Assert.Equal(1, loose.Parse("NODE"));
        Assert.Equal("none", exact.Format(2));
        Assert.Null(exact.Format(3));
        Assert.Equal("node or both", loose.Accepts);
    }

    [Fact]
    public void Text_takes_anything_and_the_empty_text_has_no_default_to_show()
    {
        Assert.Equal(" a=b ", FlagValues.Text.Parse(" a=b "));
        Assert.Null(FlagValues.Text.Format(""));
        Assert.Equal("x", FlagValues.Text.Format("x"));
    }

    [Fact]
    public void A_custom_value_refuses_what_its_reader_refuses_in_its_own_words()
    {
        var even = FlagValues.Custom<int>(
            "an even number",
            t => int.TryParse(t, out var n) && n % 2 == 0 ? n : null,
            n => $"{n}"
        );

        Assert.Equal(4, even.Parse("4"));
        Assert.Equal("is not an even number", Problem(even, "3"));
        Assert.Null(even.Accepts);
    }
}
