using System.Collections.Concurrent;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace ZfsCsi.Tests.Fakes;

/// <summary>Keeps log events so tests can check what was logged, and what was not. The integration tests compile this same file.</summary>
public sealed class InMemorySink : ILogEventSink
{
    public ConcurrentQueue<LogEvent> Events { get; } = new();

    public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);

    /// <summary>Each event's rendered message.</summary>
    public IEnumerable<string> Rendered => Events.Select(e => e.RenderMessage());

    /// <summary>A logger at Verbose that writes only here.</summary>
    public Serilog.ILogger CreateLogger() =>
        new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    /// <summary>Everything an event could show anywhere: its rendered message, every property, the exception.</summary>
    public static IEnumerable<string> AllText(LogEvent e) =>
        new[] { e.MessageTemplate.Text, e.RenderMessage(), e.Exception?.ToString() ?? "" }.Concat(
            e.Properties.Select(p => $"{p.Key}={p.Value}")
        );
}
