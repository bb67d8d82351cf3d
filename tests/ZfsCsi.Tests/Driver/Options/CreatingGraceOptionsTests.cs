using ZfsCsi.Core.Options;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Tests.Driver.Options;

/// <summary>--creating-grace: how long a half-made volume waits for its retry before the sweep destroys it.</summary>
public sealed class CreatingGraceOptionsTests
{
    private static DriverOptions Parse(params string[] args) => DriverOptions.Parse(["--mode", "controller", .. args]);

    [Fact]
    public void The_default_is_an_hour()
    {
        Assert.Equal(TimeSpan.FromHours(1), Parse().Volumes.CreatingGrace);
    }

    [Theory]
    [InlineData("1450", 1450)]
    [InlineData("7200", 7200)]
    [InlineData("86400", 86400)]
    public void A_grace_longer_than_any_create_is_accepted(string value, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Parse("--creating-grace", value).Volumes.CreatingGrace);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e300")]
    [InlineData("599")]
    [InlineData("31536001")]
    public void A_bad_or_too_short_grace_is_refused_with_a_message(string value)
    {
        Assert.Contains(
            "--creating-grace",
            Assert.Throws<OptionsException>(() => Parse("--creating-grace", value)).Message
        );
    }

    [Fact]
    public void Short_timeouts_allow_the_shortest_grace_of_ten_minutes()
    {
        // 32 x 5 s + 4 x 60 s + 10 s = 410 s.
        var o = Parse("--zfs-timeout", "5", "--mount-lock-timeout", "60", "--creating-grace", "600");

        Assert.Equal(TimeSpan.FromMinutes(10), o.Volumes.CreatingGrace);
    }

    [Fact]
    public void A_grace_shorter_than_the_longest_create_the_timeouts_allow_is_refused_and_says_why()
    {
        // 32 x 60 s + 4 x 120 s + 10 s = 2410 s.
        var e = Assert.Throws<OptionsException>(() => Parse("--zfs-timeout", "60", "--creating-grace", "1800"));

        Assert.Contains("--creating-grace", e.Message);
        Assert.Contains("--zfs-timeout", e.Message);
        Assert.Contains("2410", e.Message);
        Assert.Equal(
            TimeSpan.FromSeconds(2410),
            Parse("--zfs-timeout", "60", "--creating-grace", "2410").Volumes.CreatingGrace
        );
    }

    [Fact]
    public void Without_a_configured_grace_long_timeouts_raise_the_default()
    {
        var o = Parse("--zfs-timeout", "86400");

        Assert.Equal(VolumeOptions.LongestCreate(o.Zfs), o.Volumes.CreatingGrace);
        Assert.True(o.Volumes.CreatingGrace > TimeSpan.FromDays(30));
    }

    [Fact]
    public void The_default_outlasts_the_longest_create_of_the_default_timeouts_by_far()
    {
        Assert.True(new VolumeOptions().CreatingGrace >= 2 * VolumeOptions.LongestCreate(new ZfsOptions()));
    }

    [Fact]
    public void The_usage_names_the_flag()
    {
        Assert.Contains("--creating-grace", DriverOptions.Usage);
    }

    [Theory]
    [InlineData(null, 600)]
    [InlineData("0", 0)]
    [InlineData("10", 10)]
    [InlineData("86400", 86400)]
    public void The_periodic_sweep_runs_every_ten_minutes_unless_told_otherwise(string? value, int seconds)
    {
        var o = value is null ? Parse() : Parse("--sweep-interval", value);
        Assert.Equal(TimeSpan.FromSeconds(seconds), o.Volumes.SweepInterval);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("-1")]
    [InlineData("86401")]
    [InlineData("often")]
    public void A_sweep_interval_outside_0_or_10_to_86400_seconds_is_refused(string value)
    {
        Assert.Contains(
            "--sweep-interval",
            Assert.Throws<OptionsException>(() => Parse("--sweep-interval", value)).Message
        );
    }
}
