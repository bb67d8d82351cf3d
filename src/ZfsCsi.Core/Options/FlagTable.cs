using System.Text;

namespace ZfsCsi.Core.Options;

/// <summary>One row of a <see cref="FlagTable{T}"/>: what the usage prints and how the value lands in the options.</summary>
public sealed class Flag<T>
{
    internal Flag(
        string name,
        IReadOnlyList<string> aliases,
        string? placeholder,
        string help,
        string? accepts,
        bool repeatable,
        bool defaultInWords,
        Func<T, string?> showDefault,
        Action<T, string> apply
    )
    {
        DefaultInWords = defaultInWords;
        (Name, Aliases, Placeholder, Help, Accepts, Repeatable) = (
            name,
            aliases,
            placeholder,
            help,
            accepts,
            repeatable
        );
        (_showDefault, _apply) = (showDefault, apply);
    }

    private readonly Func<T, string?> _showDefault;
    private readonly Action<T, string> _apply;

    /// <summary>"--zfs-timeout".</summary>
    public string Name { get; }

    /// <summary>Other spellings that are read the same ("--node-id" for "--nodeid").</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>The value's placeholder in the usage ("SECONDS"); null for a switch, which takes no value.</summary>
    public string? Placeholder { get; }

    public string Help { get; }

    /// <summary>The accepted values in words ("0.001s to 86400s"), from the value type; null when any text goes.</summary>
    public string? Accepts { get; }

    /// <summary>Every occurrence adds a value; otherwise the last one counts.</summary>
    public bool Repeatable { get; }

    /// <summary>The default is said in words ("the number of cores"), not as a value the flag takes.</summary>
    public bool DefaultInWords { get; }

    /// <summary>The default as it would be written on the command line, from <paramref name="fresh"/> options; null when there is none.</summary>
    public string? Default(T fresh) => _showDefault(fresh);

    /// <summary>Parses <paramref name="value"/> onto <paramref name="options"/>; a bad value throws <see cref="OptionsException"/>: "--flag: 'value' is ...".</summary>
    public void Apply(T options, string value)
    {
        try
        {
            _apply(options, value);
        }
        catch (FlagValueException e)
        {
            throw new OptionsException($"{Name}: '{value}' {e.Message}");
        }
    }
}

/// <summary>
/// A program's flags declared once: each with its name, value placeholder, help, default and a typed
/// value with bounds, and where it lands in the options record. Both the usage (<see cref="Usage"/>)
/// and the parsing (<see cref="Parse"/>) are made from it, so they cannot disagree. Flags are
/// <c>--key value</c> or <c>--key=value</c> (<see cref="Flags.TryRead"/>); switches take no value.
/// No reflection: each row holds its own delegates, as native AOT and trimming want.
/// </summary>
public sealed class FlagTable<T>(string header, Func<T> create)
{
    private const int HelpColumn = 25;
    private const int Width = 100;

    private readonly List<object> _rows = [];
    private readonly Dictionary<string, Flag<T>> _byName = new(StringComparer.Ordinal);
    private string? _usage;

    /// <summary>The flags in the order the usage lists them.</summary>
    public IEnumerable<Flag<T>> Flags => _rows.OfType<Flag<T>>();

    /// <summary>A flag with a value; <paramref name="defaultText"/> replaces the default read from fresh options where that needs words ("the number of cores").</summary>
    public FlagTable<T> Value<TValue>(
        string name,
        string placeholder,
        FlagValue<TValue> type,
        Func<T, TValue> get,
        Action<T, TValue> set,
        string help,
        string? alias = null,
        string? defaultText = null
    ) =>
        Add(
            new Flag<T>(
                name,
                alias is null ? [] : [alias],
                placeholder,
                help,
                type.Accepts,
                repeatable: false,
                defaultInWords: defaultText is not null,
                defaultText is null ? o => type.Format(get(o)) : _ => defaultText,
                (o, text) => set(o, type.Parse(text))
            )
        );

    /// <summary>A flag that may be given many times, each adding one value.</summary>
    public FlagTable<T> Repeated<TValue>(
        string name,
        string placeholder,
        FlagValue<TValue> type,
        Action<T, TValue> add,
        string help
    ) =>
        Add(
            new Flag<T>(
                name,
                [],
                placeholder,
                help,
                type.Accepts,
                repeatable: true,
                defaultInWords: false,
                _ => null,
                (o, text) => add(o, type.Parse(text))
            )
        );

    /// <summary>A flag without a value (<c>--no-import</c>).</summary>
    public FlagTable<T> Switch(string name, Action<T> set, string help) =>
        Add(
            new Flag<T>(
                name,
                [],
                null,
                help,
                null,
                repeatable: false,
                defaultInWords: false,
                _ => null,
                (o, _) => set(o)
            )
        );

    /// <summary>A heading in the usage before the flags that follow.</summary>
    public FlagTable<T> Section(string title)
    {
        _rows.Add(title);
        return this;
    }

    private FlagTable<T> Add(Flag<T> flag)
    {
        foreach (var name in flag.Aliases.Prepend(flag.Name))
        {
            if (!name.StartsWith("--", StringComparison.Ordinal) || name.Contains('=', StringComparison.Ordinal))
            {
                throw new ArgumentException($"a flag is --name without '=': '{name}'", nameof(flag));
            }
            if (!_byName.TryAdd(name, flag))
            {
                throw new ArgumentException($"flag {name} is declared twice", nameof(flag));
            }
        }
        _rows.Add(flag);
        _usage = null;
        return this;
    }

    /// <summary>The flag named <paramref name="name"/> (or an alias), or null.</summary>
    public Flag<T>? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// Applies <paramref name="args"/> from <paramref name="start"/> onto <paramref name="options"/>, in
    /// order (for a flag given twice the last one counts, unless it is repeatable). An unknown flag, a
    /// stray argument, a flag without its value or a bad value throws <see cref="OptionsException"/>.
    /// </summary>
    public void Parse(T options, IReadOnlyList<string> args, int start = 0)
    {
        for (var i = start; i < args.Count; i++)
        {
            var arg = args[i];
            if (Find(arg) is { Placeholder: null } toggle)
            {
                toggle.Apply(options, "");
                continue;
            }
            if (!Options.Flags.TryRead(args, ref i, out var key, out var value))
            {
                throw new OptionsException($"unexpected argument '{arg}'");
            }
            var flag = Find(key) ?? throw new OptionsException($"unknown flag '{key}'");
            if (flag.Placeholder is null)
            {
                throw new OptionsException($"{key} takes no value");
            }
            flag.Apply(options, value);
        }
    }

    /// <summary>The header, then one entry per flag: names and placeholder, help, accepted values, default.</summary>
    public string Usage => _usage ??= BuildUsage();

    private string BuildUsage()
    {
        var fresh = create();
        var text = new StringBuilder(header.TrimEnd()).Append("\n\n");
        foreach (var row in _rows)
        {
            if (row is string title)
            {
                text.Append('\n').Append(title).Append('\n');
                continue;
            }
            var flag = (Flag<T>)row;
            var left = "  " + string.Join(", ", flag.Aliases.Prepend(flag.Name));
            if (flag.Placeholder is not null)
            {
                left += " " + flag.Placeholder;
            }
            if (flag.Repeatable)
            {
                left += " (repeatable)";
            }
            var help = new StringBuilder(flag.Help);
            if (flag.Accepts is { } accepts)
            {
                help.Append("; ").Append(accepts);
            }
            if (flag.Default(fresh) is { } value)
            {
                help.Append("; default ").Append(value);
            }
            Wrap(text, left, help.ToString());
        }
        return text.ToString().TrimEnd('\n');
    }

    /// <summary>The help beside the name when it fits before <see cref="HelpColumn"/>, else after two spaces; continued lines under the help column.</summary>
    private static void Wrap(StringBuilder text, string left, string help)
    {
        var line = new StringBuilder(left.Length < HelpColumn - 1 ? left.PadRight(HelpColumn) : left + "  ");
        var first = true;
        foreach (var word in help.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!first && line.Length + 1 + word.Length > Width)
            {
                text.Append(line.ToString().TrimEnd()).Append('\n');
                line.Clear().Append(' ', HelpColumn);
                first = true;
            }
            if (!first)
            {
                line.Append(' ');
            }
            line.Append(word);
            first = false;
        }
        text.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
