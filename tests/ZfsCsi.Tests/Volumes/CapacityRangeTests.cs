using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Tests.Volumes;

public sealed class CapacityRangeTests
{
    private const long MiB = CapacityRange.MiB;
    private const long GiB = CapacityRange.GiB;

    [Fact]
    public void No_range_gets_the_default_size()
    {
        Assert.Equal(CapacityRange.DefaultBytes, CapacityRange.Unspecified.Resolve());
        Assert.Equal(GiB, new CapacityRange(0, 0).Resolve());
    }

    [Fact]
    public void Required_bytes_are_provisioned_exactly()
    {
        Assert.Equal(5 * GiB + 1, new CapacityRange(5 * GiB + 1, 0).Resolve());
        Assert.Equal(5 * GiB, new CapacityRange(5 * GiB, 5 * GiB).Resolve());
    }

    [Fact]
    public void Only_a_limit_gets_the_default_or_the_limit_whichever_is_smaller()
    {
        Assert.Equal(GiB, new CapacityRange(0, 10 * GiB).Resolve());
        Assert.Equal(100 * MiB, new CapacityRange(0, 100 * MiB).Resolve());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(1024 * 1024 - 1)]
    public void A_tiny_request_is_rounded_up_to_the_minimum(long required)
    {
        Assert.Equal(CapacityRange.MinimumBytes, new CapacityRange(required, 0).Resolve());
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    [InlineData(-5, -5)]
    public void A_negative_value_is_invalid_input(long required, long limit)
    {
        Assert.Throws<InvalidInputException>(() => new CapacityRange(required, limit).Resolve());
    }

    [Fact]
    public void A_limit_below_the_required_bytes_is_invalid_input()
    {
        Assert.Throws<InvalidInputException>(() => new CapacityRange(2 * GiB, GiB).Resolve());
    }

    [Theory]
    [InlineData(0, 4096)]
    [InlineData(1, 1024 * 1024 - 1)]
    [InlineData(1024, 1024)]
    public void A_limit_below_the_minimum_volume_is_out_of_range(long required, long limit)
    {
        var e = Assert.Throws<CapacityOutOfRangeException>(() => new CapacityRange(required, limit).Resolve());
        Assert.Equal(ErrorKind.OutOfRange, e.Kind);
    }

    [Theory]
    [InlineData(0, 0, GiB, true)]
    [InlineData(GiB, 0, GiB, true)]
    [InlineData(GiB, 0, 2 * GiB, true)]
    [InlineData(2 * GiB, 0, GiB, false)]
    [InlineData(0, GiB, GiB, true)]
    [InlineData(0, GiB, GiB + 1, false)]
    [InlineData(1, 0, MiB, true)]
    public void Is_satisfied_by_a_capacity_inside_the_range(long required, long limit, long capacity, bool expected)
    {
        Assert.Equal(expected, new CapacityRange(required, limit).IsSatisfiedBy(capacity));
    }

    [Fact]
    public void What_resolve_provisions_always_satisfies_the_same_range()
    {
        foreach (
            var range in new CapacityRange[]
            {
                new(0, 0),
                new(1, 0),
                new(0, 100 * MiB),
                new(3 * GiB, 4 * GiB),
                new(1, 2 * MiB),
            }
        )
        {
            Assert.True(range.IsSatisfiedBy(range.Resolve()), range.ToString());
        }
    }
}
