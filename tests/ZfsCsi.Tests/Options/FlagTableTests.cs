using ZfsCsi.Core.Options;

namespace ZfsCsi.Tests.Options;

public sealed class FlagTableTests
{
    private sealed class Record
    {
        public string Name { get; set; } = "box";
        public int Count { get; set; } = 3;
        public TimeSpan Wait { get; set; } = TimeSpan.FromSeconds(30);
        public bool Quiet { get; set; }
        public List<string> Tags { get; } = [];
        public string Color { get; set; } = "red";
    }

    private static FlagTable<Record> Table() =>
        new FlagTable<Record>("demo: a test program\n", () => new Record())
            .Value("--name", "NAME", FlagValues.Text, o => o.Name, (o, v) => o.Name = v, "the name", alias: "--label")
            .Value(
                "--count",
                "N",
                FlagValues.Whole(Bounds.AtLeast(1).AtMost(10)),
                o => o.Count,
                (o, v) => o.Count = v,
                "how many"
            )
            .Value(
                "--wait",
                "SECONDS",
                FlagValues.Seconds(Bounds.Above(0).AtMost(60)),
                o => o.Wait,
                (o, v) => o.Wait = v,
                "how long"
            )
            .Switch("--quiet", o => o.Quiet = true, "say nothing")
            .Repeated("--tag", "TAG", FlagValues.Text, (o, v) => o.Tags.Add(v), "a tag")
            .Section("colours:")
            .Value(
                "--color",
                "COLOR",
                FlagValues.Choice(ignoreCase: false, ("red", "red"), ("green", "green")),
                o => o.Color,
                (o, v) => o.Color = v,
                "the colour",
                defaultText: "red unless told"
            );

    private static Record Parse(params string[] args)
    {
        var o = new Record();
        Table().Parse(o, args);
        return o;
    }

    private static string Refused(params string[] args) => Assert.Throws<OptionsException>(() => Parse(args)).Message;

    [Fact]
    public void Values_are_read_as_key_value_and_key_equals_value_and_by_alias()
    {
        var o = Parse("--name", "a", "--count=4", "--wait", "0.5", "--label=b");

        Assert.Equal("b", o.Name);
        Assert.Equal(4, o.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(500), o.Wait);
    }

    [Fact]
    public void Nothing_given_leaves_the_record_as_created()
    {
        var o = Parse();

        Assert.Equal(("box", 3, TimeSpan.FromSeconds(30), false), (o.Name, o.Count, o.Wait, o.Quiet));
        Assert.Empty(o.Tags);
    }

    [Fact]
    public void A_flag_given_twice_keeps_the_last_value_and_a_repeated_one_keeps_every_value()
    {
        var o = Parse("--count", "2", "--tag", "x", "--count", "5", "--tag=y", "--tag", "");

        Assert.Equal(5, o.Count);
        Assert.Equal(["x", "y", ""], o.Tags);
    }

    [Fact]
    public void A_switch_takes_no_value_and_refuses_one()
    {
        Assert.True(Parse("--quiet", "--count", "2").Quiet);
        Assert.Equal("--quiet takes no value", Refused("--quiet=yes"));
    }

    [Fact]
    public void A_bad_value_is_refused_as_flag_value_and_what_is_wrong()
    {
        Assert.Equal("--count: '0' is below the minimum 1", Refused("--count", "0"));
        Assert.Equal("--count: '11' is above the maximum 10", Refused("--count=11"));
        Assert.Equal("--count: '-1' is not a whole number", Refused("--count", "-1"));
        Assert.Equal("--wait: '0' is not more than 0s", Refused("--wait", "0"));
        Assert.Equal("--wait: '61' is above the maximum 60s", Refused("--wait", "61"));
        Assert.Equal("--wait: 'soon' is not a number of seconds", Refused("--wait", "soon"));
        Assert.Equal("--color: 'blue' is not red or green", Refused("--color", "blue"));
    }

    [Fact]
    public void A_bad_value_given_by_alias_is_named_by_the_flag()
    {
        var table = new FlagTable<Record>("t", () => new Record()).Value(
            "--count",
            "N",
            FlagValues.Whole(Bounds.AtLeast(1)),
            o => o.Count,
            (o, v) => o.Count = v,
            "how many",
            alias: "--n"
        );

        Assert.Equal(
            "--count: 'x' is not a whole number",
            Assert.Throws<OptionsException>(() => table.Parse(new Record(), ["--n", "x"])).Message
        );
    }

    [Theory]
    [InlineData("--verbose", "1")]
    [InlineData("--Name", "a")]
    [InlineData("--=x")]
    public void An_unknown_flag_is_refused_by_name(params string[] args)
    {
        Assert.StartsWith("unknown flag '", Refused(args));
    }

    [Theory]
    [InlineData("stray")]
    [InlineData("-name")]
    [InlineData("--name")]
    public void A_stray_argument_or_a_flag_without_its_value_is_refused(string arg)
    {
        Assert.Equal($"unexpected argument '{arg}'", Refused("--count", "2", arg));
    }

    [Fact]
    public void Parsing_starts_where_it_is_told()
    {
        var o = new Record();
        Table().Parse(o, ["watch", "--count", "7"], start: 1);

        Assert.Equal(7, o.Count);
    }

    [Fact]
    public void The_usage_lists_every_flag_with_placeholder_help_bounds_and_default_under_the_header()
    {
        var usage = Table().Usage;
        var lines = usage.Split('\n');

        Assert.Equal("demo: a test program", lines[0]);
        Assert.Equal("", lines[1]);
        Assert.Contains("  --name, --label NAME   the name; default box", lines);
        Assert.Contains("  --count N              how many; 1 to 10; default 3", lines);
        Assert.Contains("  --wait SECONDS         how long; more than 0s and at most 60s; default 30", lines);
        Assert.Contains("  --quiet                say nothing", lines);
        Assert.Contains("  --tag TAG (repeatable)  a tag", lines);
        Assert.Contains("colours:", lines);
        Assert.Contains("  --color COLOR          the colour; red or green; default red unless told", lines);
        Assert.True(Array.IndexOf(lines, "colours:") < Array.FindIndex(lines, l => l.StartsWith("  --color")));
    }

    [Fact]
    public void Long_help_is_wrapped_under_the_help_column_within_100_columns()
    {
        var help = string.Join(' ', Enumerable.Repeat("word", 60));
        var usage = new FlagTable<Record>("t", () => new Record())
            .Value("--name", "NAME", FlagValues.Text, o => o.Name, (o, v) => o.Name = v, help)
            .Usage;
        var lines = usage.Split('\n')[2..];

        Assert.True(lines.Length >= 3);
        Assert.All(lines, l => Assert.True(l.Length <= 100, l));
        Assert.All(lines[1..], l => Assert.Matches("^ {25}[a-z]", l));
        Assert.Equal(60, string.Join(' ', lines).Split(' ').Count(w => w.StartsWith("word", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_defaults_come_from_a_fresh_record_and_say_none_for_unset_text()
    {
        var table = Table();
        var fresh = new Record { Name = "" };

        Assert.Null(table.Find("--name")!.Default(fresh));
        Assert.Equal("3", table.Find("--count")!.Default(fresh));
        Assert.Equal("30", table.Find("--wait")!.Default(fresh));
        Assert.Null(table.Find("--quiet")!.Default(fresh));
        Assert.True(table.Find("--color")!.DefaultInWords);
        Assert.Same(table.Find("--name"), table.Find("--label"));
    }

    [Theory]
    [InlineData("--count")]
    [InlineData("name")]
    [InlineData("--a=b")]
    public void A_table_refuses_a_flag_declared_twice_or_misspelt(string name)
    {
        Assert.Throws<ArgumentException>(() =>
            new FlagTable<Record>("t", () => new Record())
                .Switch("--count", o => o.Quiet = true, "x")
                .Switch(name, o => o.Quiet = true, "y")
        );
    }
}
