using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace ZfsCsi.IntegrationTests.Infrastructure;

/// <summary>Keeps the driver's log events so tests can check what was logged (and what was not).</summary>
public sealed class InMemorySink : ILogEventSink
{
    public ConcurrentQueue<LogEvent> Events { get; } = new();

    public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);

    public IEnumerable<string> Rendered => Events.Select(e => e.RenderMessage());
}
