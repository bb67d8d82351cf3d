namespace ZfsCsi.Lab;

/// <summary>
/// Timings (or sizes) of one measured thing, sorted once: the quantiles the benches print. A
/// quantile is the sample at that rank (nearest rank, no interpolation), so every figure printed
/// is one that was measured.
/// </summary>
public sealed class Samples
{
    private readonly double[] _sorted;

    public Samples(IEnumerable<double> values)
    {
        _sorted = [.. values];
        Array.Sort(_sorted);
    }

    public int Count => _sorted.Length;

    public double Min => _sorted[0];

    public double Max => _sorted[^1];

    /// <summary>The sample at rank <paramref name="q"/> (0–1) of the sorted samples.</summary>
    public double Quantile(double q) => _sorted[Math.Min(_sorted.Length - 1, (int)(q * _sorted.Length))];
}
