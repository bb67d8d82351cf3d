using System.Diagnostics;
using Serilog;
using Serilog.Events;
using ZfsCsi.Core.Bootstrap;

namespace ZfsCsi.Bootstrap.Progress;

/// <summary>
/// What the bootstrap is doing, told three ways: Serilog events (each step with its elapsed time,
/// the tail of a command's output when it fails), the status file the driver reads (refreshed by a
/// heartbeat even in the middle of a long build), and the live line on a terminal.
/// </summary>
public sealed class BootstrapProgress : IDisposable
{
    public const int TailLines = 20;
    private static readonly TimeSpan LongStepReport = TimeSpan.FromSeconds(30);

    private readonly ILogger _log;
    private readonly string _statusFile;
    private readonly bool _watching;
    private readonly ProgressLine? _line;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private readonly Queue<string> _tail = new();
    private readonly Timer _heartbeat;
    private BootstrapStatus _status;
    private long _checkStarted = Stopwatch.GetTimestamp();
    private long _stepStarted = Stopwatch.GetTimestamp();
    private long _lastLongStepLog = Stopwatch.GetTimestamp();
    private bool _stepRunning;
    private bool _writeFailedLogged;

    public BootstrapProgress(
        ILogger log,
        string statusFile,
        bool watching,
        TimeSpan heartbeat,
        ProgressLine? line = null,
        TimeProvider? clock = null
    )
    {
        _log = log.ForContext<BootstrapProgress>();
        _statusFile = statusFile;
        _watching = watching;
        _line = line;
        _clock = clock ?? TimeProvider.System;
        _status = new BootstrapStatus
        {
            State = BootstrapState.Checking,
            Reason = "starting",
            Heartbeat = _clock.GetUtcNow(),
            Watching = watching,
        };
        _heartbeat = new Timer(_ => Beat(), null, heartbeat, heartbeat);
    }

    /// <summary>When false (quiet watch cycles), quick successful steps log at Debug only.</summary>
    public bool Verbose { get; set; } = true;

    public BootstrapStatus Current
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    public IReadOnlyList<string> Tail
    {
        get
        {
            lock (_gate)
            {
                return [.. _tail];
            }
        }
    }

    /// <summary>A new check starts: elapsed time counts from here.</summary>
    public void BeginCheck()
    {
        lock (_gate)
        {
            _checkStarted = Stopwatch.GetTimestamp();
        }
    }

    public TimeSpan CheckElapsed
    {
        get
        {
            lock (_gate)
            {
                return Stopwatch.GetElapsedTime(_checkStarted);
            }
        }
    }

    /// <summary>Records facts the status file carries (null leaves a fact as it was).</summary>
    public void Facts(
        string? pool = null,
        string? poolHealth = null,
        string? kernelRelease = null,
        string? moduleVersion = null
    )
    {
        lock (_gate)
        {
            _status = _status with
            {
                Pool = pool ?? _status.Pool,
                PoolHealth = poolHealth ?? _status.PoolHealth,
                KernelRelease = kernelRelease ?? _status.KernelRelease,
                ModuleVersion = moduleVersion ?? _status.ModuleVersion,
            };
        }
    }

    /// <summary>The module was loaded just now, in <paramref name="took"/>: kept in the status file for the driver's metrics.</summary>
    public void ModuleLoaded(TimeSpan took)
    {
        lock (_gate)
        {
            _status = _status with { ModuleLoaded = _clock.GetUtcNow(), ModuleLoadSeconds = took.TotalSeconds };
        }
    }

    /// <summary>A rebuild of the module finished just now, in <paramref name="took"/>: kept in the status file for the driver's metrics.</summary>
    public void ModuleRebuilt(TimeSpan took)
    {
        lock (_gate)
        {
            _status = _status with { ModuleRebuilt = _clock.GetUtcNow(), ModuleRebuildSeconds = took.TotalSeconds };
        }
    }

    /// <summary>
    /// Runs one step: logs its start and end with the elapsed time, puts it in the status file
    /// with its start and <paramref name="limit"/> (what its commands may take: past it plus a
    /// margin, `alive` reports the step stuck), and on failure logs the tail of its output.
    /// <paramref name="important"/> steps (build, import) always log at Information.
    /// </summary>
    public async Task<T> StepAsync<T>(
        BootstrapState state,
        string step,
        string reason,
        Func<Task<T>> action,
        bool important = false,
        TimeSpan? limit = null
    )
    {
        var level = Verbose || important ? LogEventLevel.Information : LogEventLevel.Debug;
        lock (_gate)
        {
            _tail.Clear();
            _stepStarted = Stopwatch.GetTimestamp();
            _lastLongStepLog = _stepStarted;
            _stepRunning = true;
            _status = _status with
            {
                RunningStep = step,
                StepStarted = _clock.GetUtcNow(),
                StepLimitSeconds = limit?.TotalSeconds,
            };
            // A routine re-check (watch mode) keeps the last verdict in the file: the driver must not
            // flap to not-ready for the few milliseconds each check takes. Rebuilding, importing or
            // a new verdict replace it.
            if (!(state == BootstrapState.Checking && _status.State is BootstrapState.Ready or BootstrapState.Failed))
            {
                _status = _status with { State = state, Step = step, Reason = reason };
            }
        }
        _line?.Begin(step);
        Write();
        _log.Write(level, "Step {Step} started: {Reason}", step, reason);
        try
        {
            var result = await action().ConfigureAwait(false);
            _line?.End();
            _log.Write(level, "Step {Step} done in {ElapsedMs:F0} ms", step, StepElapsed.TotalMilliseconds);
            return result;
        }
        catch (Exception e)
        {
            _line?.End();
            var tail = Tail;
            _log.Error(
                "Step {Step} failed after {ElapsedMs:F0} ms: {Reason}{NewLine}{OutputTail}",
                step,
                StepElapsed.TotalMilliseconds,
                e.Message,
                tail.Count > 0 ? Environment.NewLine : "",
                string.Join(Environment.NewLine, tail)
            );
            throw;
        }
        finally
        {
            lock (_gate)
            {
                _stepRunning = false;
                _status = _status with { RunningStep = "", StepStarted = null, StepLimitSeconds = null };
            }
        }
    }

    public Task StepAsync(
        BootstrapState state,
        string step,
        string reason,
        Func<Task> action,
        bool important = false,
        TimeSpan? limit = null
    ) =>
        StepAsync(
            state,
            step,
            reason,
            async () =>
            {
                await action().ConfigureAwait(false);
                return 0;
            },
            important,
            limit
        );

    /// <summary>One line of a running command's output: kept for the tail, shown on the live line, logged at Debug.</summary>
    public void Output(string line)
    {
        lock (_gate)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
        _line?.Output(line);
        _log.Debug("{Step}: {OutputLine}", Current.Step, line);
    }

    /// <summary>The end of a check: ready or failed, with the reason; written at once.</summary>
    public BootstrapStatus Finish(bool ready, string reason, string failedStep = "")
    {
        lock (_gate)
        {
            _status = _status with
            {
                State = ready ? BootstrapState.Ready : BootstrapState.Failed,
                Reason = reason,
                Step = ready ? "" : failedStep,
            };
        }
        Write();
        return Current;
    }

    private TimeSpan StepElapsed
    {
        get
        {
            lock (_gate)
            {
                return Stopwatch.GetElapsedTime(_stepStarted);
            }
        }
    }

    private void Beat()
    {
        Write();
        string? step = null;
        string? last = null;
        TimeSpan elapsed = default;
        lock (_gate)
        {
            if (_stepRunning && Stopwatch.GetElapsedTime(_lastLongStepLog) >= LongStepReport)
            {
                _lastLongStepLog = Stopwatch.GetTimestamp();
                (step, elapsed, last) = (_status.Step, Stopwatch.GetElapsedTime(_stepStarted), _tail.LastOrDefault());
            }
        }
        if (step is not null)
        {
            _log.Information(
                "Step {Step} still running after {ElapsedSeconds:F0} s; last output: {LastOutputLine}",
                step,
                elapsed.TotalSeconds,
                last ?? "(none)"
            );
        }
    }

    /// <summary>Writes the status file with a fresh heartbeat; a failure is logged once, never thrown (the check goes on).</summary>
    public void Write()
    {
        if (_statusFile.Length == 0)
        {
            return;
        }
        BootstrapStatus status;
        lock (_gate)
        {
            _status = _status with
            {
                Heartbeat = _clock.GetUtcNow(),
                ElapsedSeconds = Math.Round(Stopwatch.GetElapsedTime(_checkStarted).TotalSeconds, 3),
                Watching = _watching,
            };
            status = _status;
            try
            {
                BootstrapStatusFile.Write(_statusFile, status);
                _writeFailedLogged = false;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (!_writeFailedLogged)
                {
                    _writeFailedLogged = true;
                    _log.Error(
                        "Cannot write status file {StatusFile}: {Reason}; the driver will not see this bootstrap's state",
                        _statusFile,
                        e.Message
                    );
                }
            }
        }
    }

    public void Dispose()
    {
        _heartbeat.Dispose();
        _line?.Dispose();
    }
}
