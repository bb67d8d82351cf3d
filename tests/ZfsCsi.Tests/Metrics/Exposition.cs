using System.Globalization;

namespace ZfsCsi.Tests.Metrics;

/// <summary>
/// A reader of the Prometheus text exposition format (0.0.4), strict enough that a malformed line
/// fails the test: every sample line is name{label="value",...} value, every # TYPE names a known type.
/// </summary>
public sealed class Exposition
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    private Exposition(IReadOnlyDictionary<string, string> types, IReadOnlyList<Sample> samples)
    {
        Types = types;
        Samples = samples;
    }

    /// <summary>Metric family name to its # TYPE (counter, gauge, histogram, summary, untyped).</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    public IReadOnlyList<Sample> Samples { get; }

    /// <summary>The one sample of <paramref name="name"/> whose labels include every pair given.</summary>
    public double Value(string name, params (string Label, string Value)[] labels) =>
        Assert
            .Single(Samples, s =>
                s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value)
            )
            .Value;

    public bool Has(string name, params (string Label, string Value)[] labels) =>
        Samples.Any(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value));

    public static Exposition Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.True(
                    parts.Length == 4 && parts[3] is "counter" or "gauge" or "histogram" or "summary" or "untyped",
                    $"bad TYPE line: {line}"
                );
                types[parts[2]] = parts[3];
                continue;
            }
            Assert.False(line.StartsWith('#'), $"unexpected comment: {line}");
            samples.Add(ParseSample(line));
        }
        return new Exposition(types, samples);
    }

    private static Sample ParseSample(string line)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        var space = line.LastIndexOf(' ');
        Assert.True(space > 0, $"no value: {line}");
        string name;
        if (brace >= 0 && brace < space)
        {
            name = line[..brace];
            var close = line.LastIndexOf('}');
            var body = line[(brace + 1)..close];
            var i = 0;
            while (i < body.Length)
            {
                var eq = body.IndexOf('=', i);
                var key = body[i..eq];
                Assert.Equal('"', body[eq + 1]);
                var value = new System.Text.StringBuilder();
                var j = eq + 2;
                for (; body[j] != '"'; j++)
                {
                    if (body[j] == '\\')
                    {
                        j++;
                        value.Append(body[j] == 'n' ? '\n' : body[j]);
                    }
                    else
                    {
                        value.Append(body[j]);
                    }
                }
                labels[key] = value.ToString();
                i = j + 1;
                if (i < body.Length)
                {
                    Assert.Equal(',', body[i]);
                    i++;
                }
            }
        }
        else
        {
            name = line[..space];
        }
        Assert.Matches("^[a-zA-Z_:][a-zA-Z0-9_:]*$", name);
        var text = line[(space + 1)..];
        var number = text switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new Sample(name, labels, number);
    }
}
