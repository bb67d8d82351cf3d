using Serilog;
using ZfsCsi.Bootstrap;
using ZfsCsi.Bootstrap.Progress;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Logging;
using ZfsCsi.Core.Options;

var (options, exitCode) = await ProgramArgs.ParseAsync(
    "zfs-csi-bootstrap",
    args,
    BootstrapOptions.Usage,
    BootstrapOptions.Parse
);
if (options is null)
{
    return exitCode;
}

if (options.Command == BootstrapCommand.Alive)
{
    var liveness = await new ZfsCsi.Core.Bootstrap.BootstrapReadiness(
        options.StatusFile,
        options.StaleAfter
    ).CheckLivenessAsync(CancellationToken.None);
    Console.WriteLine(liveness.Reason);
    return liveness.Ready ? 0 : 1;
}

var line = options.LogFormat == ConsoleLog.Text ? ProgressLine.ForConsole() : null;
var console = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.ConsoleIn(options.LogFormat).CreateLogger();
var logConfig = new LoggerConfiguration().MinimumLevel.Information();
if (options.Command == BootstrapCommand.Watch)
{
    // The sidecar re-runs the same quick reads every few seconds: one event per command would
    // bury the log. Steps and verdict changes are logged by the bootstrap itself.
    logConfig = logConfig.MinimumLevel.Override(
        typeof(CliWrapCommandRunner).FullName!,
        Serilog.Events.LogEventLevel.Warning
    );
}
Log.Logger = logConfig
    .Enrich.WithProperty("Command", options.Command)
    .WriteTo.Sink(line is null ? console : new ProgressAwareSink(console, line))
    .CreateLogger();

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM,
    ctx =>
    {
        ctx.Cancel = true;
        stop.Cancel();
    }
);
try
{
    using var bootstrapper = new Bootstrapper(options, new CliWrapCommandRunner(Log.Logger), Log.Logger, line);
    if (options.Command == BootstrapCommand.Once)
    {
        return await bootstrapper.RunOnceAsync(stop.Token);
    }
    await bootstrapper.WatchAsync(stop.Token);
    return 0;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Log.Warning("zfs-csi-bootstrap stopped by a signal");
    return 130;
}
catch (Exception e)
{
    Log.Fatal(e, "zfs-csi-bootstrap failed unexpectedly");
    return 1;
}
finally
{
    line?.Dispose();
    await Log.CloseAndFlushAsync();
    console.Dispose();
}
