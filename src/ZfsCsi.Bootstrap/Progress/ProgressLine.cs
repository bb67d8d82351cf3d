namespace ZfsCsi.Bootstrap.Progress;

/// <summary>
/// The live progress display on a terminal: one line, redrawn in place with the current step, its
/// elapsed time and the latest build output line. Only used when stdout is a terminal; in a pod
/// or under systemd the logs carry the same facts.
/// </summary>
public sealed class ProgressLine : IDisposable
{
    private readonly TextWriter _out;
    private readonly Lock _gate = new();
    private readonly Timer _timer;
    private string _step = "";
    private string _last = "";
    private long _started;
    private bool _shown;

    public ProgressLine(TextWriter output)
    {
        _out = output;
        _timer = new Timer(_ => Draw(), null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
    }

    public static ProgressLine? ForConsole() => Console.IsOutputRedirected ? null : new ProgressLine(Console.Out);

    public Lock Gate => _gate;

    public void Begin(string step)
    {
        lock (_gate)
        {
            (_step, _last, _started) = (step, "", System.Diagnostics.Stopwatch.GetTimestamp());
        }
        Draw();
    }

    public void Output(string line)
    {
        lock (_gate)
        {
            _last = line.Trim();
        }
    }

    public void End()
    {
        lock (_gate)
        {
            _step = "";
            ClearUnlocked();
        }
    }

    /// <summary>Erases the line (before a log event is written); the timer draws it again.</summary>
    public void ClearUnlocked()
    {
        if (_shown)
        {
            _out.Write("\r\u001b[2K");
            _out.Flush();
            _shown = false;
        }
    }

    private void Draw()
    {
        lock (_gate)
        {
            if (_step.Length == 0)
            {
                return;
            }
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(_started);
            var text =
                $"  [{(int)elapsed.TotalMinutes:00}:{elapsed.Seconds:00}] {_step}{(_last.Length > 0 ? " | " + _last : "")}";
            var width = Console.IsOutputRedirected ? 120 : Math.Max(40, Console.WindowWidth) - 1;
            _out.Write("\r\u001b[2K" + (text.Length > width ? text[..width] : text));
            _out.Flush();
            _shown = true;
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        End();
    }
}
