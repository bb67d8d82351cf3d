using Serilog.Core;
using Serilog.Events;

namespace ZfsCsi.Bootstrap.Progress;

/// <summary>Writes log events to the console without tearing the live progress line: erase it, log, let it redraw.</summary>
public sealed class ProgressAwareSink(ILogEventSink inner, ProgressLine line) : ILogEventSink
{
    public void Emit(LogEvent logEvent)
    {
        lock (line.Gate)
        {
            line.ClearUnlocked();
            inner.Emit(logEvent);
        }
    }
}
