using System.Globalization;

namespace ZfsCsi.Core.Options;

/// <summary>
/// A flag's value type: how its text becomes a value, the bounds the value must fall in, and how a
/// value prints (for the usage's defaults). A bad value throws <see cref="FlagValueException"/> with
/// what is wrong ("is below the minimum 1s"); the table puts the flag and the text in front of it.
/// </summary>
public abstract class FlagValue<T>
{
    public abstract T Parse(string text);

    /// <summary>How <paramref name="value"/> is written on the command line; null when it means "not set" (no default shown).</summary>
    public abstract string? Format(T value);

    /// <summary>The accepted values in words for the usage ("0.1s to 60s", "text or json"); null when any text goes.</summary>
    public virtual string? Accepts => null;
}

/// <summary>What is wrong with one flag's value, without the flag: "is below the minimum 1s".</summary>
public sealed class FlagValueException(string problem) : Exception(problem);

/// <summary>
/// A numeric range, each end inclusive (<see cref="AtLeast"/>, <see cref="AtMost"/>) or exclusive
/// (<see cref="Above"/>, <see cref="Below"/>), or open.
/// </summary>
public readonly record struct Bounds(double? Min, bool MinExclusive, double? Max, bool MaxExclusive)
{
    public static Bounds None => default;

    public static Bounds AtLeast(double min) => new(min, false, null, false);

    public static Bounds Above(double min) => new(min, true, null, false);

    public Bounds AtMost(double max) => this with { Max = max, MaxExclusive = false };

    public Bounds Below(double max) => this with { Max = max, MaxExclusive = true };

    /// <summary>Null when <paramref name="value"/> is within; else what is wrong with it, bounds written with <paramref name="unit"/>.</summary>
    public string? Check(double value, string unit)
    {
        if (Min is { } min && (MinExclusive ? value <= min : value < min))
        {
            return MinExclusive ? $"is not more than {Show(min, unit)}" : $"is below the minimum {Show(min, unit)}";
        }
        if (Max is { } max && (MaxExclusive ? value >= max : value > max))
        {
            return MaxExclusive ? $"is not less than {Show(max, unit)}" : $"is above the maximum {Show(max, unit)}";
        }
        return null;
    }

    /// <summary>"1s to 600s", "more than 0s", "at least 1", "more than 0s and less than 3600s"; null when unbounded.</summary>
    public string? Describe(string unit)
    {
        if (Min is { } min && Max is { } max && !MinExclusive && !MaxExclusive)
        {
            return $"{Show(min, unit)} to {Show(max, unit)}";
        }
        var parts = new List<string>(2);
        if (Min is { } low)
        {
            parts.Add($"{(MinExclusive ? "more than" : "at least")} {Show(low, unit)}");
        }
        if (Max is { } high)
        {
            parts.Add($"{(MaxExclusive ? "less than" : "at most")} {Show(high, unit)}");
        }
        return parts.Count == 0 ? null : string.Join(" and ", parts);
    }

    internal static string Show(double value, string unit) => value.ToString(CultureInfo.InvariantCulture) + unit;
}

/// <summary>The value types the zfs-csi programs' flags use.</summary>
public static class FlagValues
{
    /// <summary>
    /// A duration given as a number of seconds ("30", "0.25", "1e3"; no unit suffix, as every flag
    /// took it so far), within <paramref name="bounds"/> and always within what a TimeSpan holds
    /// (Infinity or 1e300 would overflow it).
    /// </summary>
    public static FlagValue<TimeSpan> Seconds(Bounds bounds) => new SecondsValue(bounds);

    /// <summary>A whole number of digits only (no sign, no spaces), within <paramref name="bounds"/>; <paramref name="unit"/> is how the bounds print ("s").</summary>
    public static FlagValue<int> Whole(Bounds bounds, string unit = "") => new WholeValue(bounds, unit);

    /// <summary>A byte size: digits with an optional K, M, G or T suffix (powers of 1024, as zfs(8) reads sizes).</summary>
    public static FlagValue<long> Size(Bounds bounds) => new SizeValue(bounds);

    /// <summary>One of the named values (aliases are further names for a value; the first name of each value is the one printed).</summary>
    public static FlagValue<T> Choice<T>(bool ignoreCase, params (string Name, T Value)[] choices) =>
        new ChoiceValue<T>(choices, ignoreCase);

    /// <summary>Any text; the empty text means "not set".</summary>
    public static FlagValue<string> Text { get; } = new TextValue();

    /// <summary>
    /// A value read by <paramref name="tryParse"/> (null: refused, "is not <paramref name="expected"/>");
    /// the flag's help describes the values, the usage adds nothing.
    /// </summary>
    public static FlagValue<T> Custom<T>(string expected, Func<string, T?> tryParse, Func<T, string?> format)
        where T : struct => new CustomValue<T>(expected, tryParse, format);

    private sealed class SecondsValue(Bounds bounds) : FlagValue<TimeSpan>
    {
        // TimeSpan.FromSeconds throws past about 9.2e11 s.
        private static readonly double Largest = Math.Floor(TimeSpan.MaxValue.TotalSeconds) - 1;

        public override TimeSpan Parse(string text)
        {
            if (
                !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
                || !double.IsFinite(s)
            )
            {
                throw new FlagValueException("is not a number of seconds");
            }
            if (bounds.Check(s, "s") is { } problem)
            {
                throw new FlagValueException(problem);
            }
            return s <= Largest
                ? TimeSpan.FromSeconds(s)
                : throw new FlagValueException($"is above the maximum {Bounds.Show(Largest, "s")}");
        }

        public override string? Format(TimeSpan value) => value.TotalSeconds.ToString(CultureInfo.InvariantCulture);

        public override string? Accepts => bounds.Describe("s");
    }

    private sealed class WholeValue(Bounds bounds, string unit) : FlagValue<int>
    {
        public override int Parse(string text)
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                throw new FlagValueException("is not a whole number");
            }
            return bounds.Check(n, unit) is { } problem ? throw new FlagValueException(problem) : n;
        }

        public override string? Format(int value) => value.ToString(CultureInfo.InvariantCulture);

        public override string? Accepts => bounds.Describe(unit);
    }

    private sealed class SizeValue(Bounds bounds) : FlagValue<long>
    {
        private static readonly (char Suffix, long Factor)[] Units =
        [
            ('T', 1L << 40),
            ('G', 1L << 30),
            ('M', 1L << 20),
            ('K', 1L << 10),
        ];

        public override long Parse(string text)
        {
            var factor = 1L;
            var digits = text;
            if (
                text.Length > 1
                && Array.FindIndex(Units, u => u.Suffix == char.ToUpperInvariant(text[^1])) is >= 0 and var i
            )
            {
                (digits, factor) = (text[..^1], Units[i].Factor);
            }
            if (
                !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                || n > long.MaxValue / factor
            )
            {
                throw new FlagValueException("is not a size (bytes, or a number with K, M, G or T)");
            }
            var bytes = n * factor;
            return bounds.Check(bytes, " bytes") is { } problem ? throw new FlagValueException(problem) : bytes;
        }

        public override string? Format(long value)
        {
            foreach (var (suffix, factor) in Units)
            {
                if (value != 0 && value % factor == 0)
                {
                    return (value / factor).ToString(CultureInfo.InvariantCulture) + suffix;
                }
            }
            return value.ToString(CultureInfo.InvariantCulture);
        }

        public override string? Accepts => bounds.Describe(" bytes");
    }

    private sealed class ChoiceValue<T>((string Name, T Value)[] choices, bool ignoreCase) : FlagValue<T>
    {
        private readonly StringComparison _comparison = ignoreCase
            ? StringComparison.OrdinalIgnoreCase
            : StringComparison.Ordinal;

        public override T Parse(string text)
        {
            foreach (var (name, value) in choices)
            {
                if (string.Equals(name, text, _comparison))
                {
                    return value;
                }
            }
            throw new FlagValueException($"is not {Accepts}");
        }

        public override string? Format(T value)
        {
            foreach (var (name, v) in choices)
            {
                if (EqualityComparer<T>.Default.Equals(v, value))
                {
                    return name;
                }
            }
            return null;
        }

        public override string Accepts =>
            choices.Length == 1
                ? choices[0].Name
                : string.Join(", ", choices[..^1].Select(c => c.Name)) + " or " + choices[^1].Name;
    }

    private sealed class TextValue : FlagValue<string>
    {
        public override string Parse(string text) => text;

        public override string? Format(string value) => value.Length == 0 ? null : value;
    }

    private sealed class CustomValue<T>(string expected, Func<string, T?> tryParse, Func<T, string?> format)
        : FlagValue<T>
        where T : struct
    {
        public override T Parse(string text) => tryParse(text) ?? throw new FlagValueException($"is not {expected}");

        public override string? Format(T value) => format(value);
    }
}
