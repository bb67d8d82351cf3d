using Serilog;
using Serilog.Configuration;
using Serilog.Formatting.Compact;

namespace ZfsCsi.Core.Logging;

/// <summary>The console output both zfs-csi programs write: text for people, JSON for log collectors.</summary>
public static class ConsoleLog
{
    public const string Text = "text";
    public const string Json = "json";

    private const string TextTemplate = "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Writes to standard output in <paramref name="format"/>: <c>json</c> is compact JSON, one event
    /// per line with every property kept; anything else is one line of text per event.
    /// </summary>
    public static LoggerConfiguration ConsoleIn(this LoggerSinkConfiguration writeTo, string format) =>
        format == Json ? writeTo.Console(new CompactJsonFormatter()) : writeTo.Console(outputTemplate: TextTemplate);
}
