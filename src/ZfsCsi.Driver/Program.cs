using Serilog;
using ZfsCsi.Core.Logging;
using ZfsCsi.Core.Options;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.Driver.Options;

var (options, exitCode) = await ProgramArgs.ParseAsync(
    "zfs-csi-driver",
    args,
    DriverOptions.Usage,
    DriverOptions.Parse
);
if (options is null)
{
    return exitCode;
}

Log.Logger = new LoggerConfiguration()
    .MinimumLevel.Information()
    .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
    .Enrich.WithProperty("Mode", options.Mode)
    .Enrich.WithProperty("NodeId", options.NodeId)
    .WriteTo.ConsoleIn(options.LogFormat)
    .CreateLogger();

try
{
    var app = DriverHost.Build(options, Log.Logger);
    await DriverHost.PrepareAsync(app, options, CancellationToken.None);
    Log.Information(
        "zfs-csi {Version} (CSI spec {CsiSpecVersion}) serving {Mode} as {DriverName} on {Endpoint}, parent dataset {ParentDataset}",
        DriverInfo.Version,
        DriverInfo.CsiSpecVersion,
        options.Mode,
        options.DriverName,
        options.Endpoint,
        options.Volumes.ParentDataset
    );
    await app.RunAsync();
    return 0;
}
catch (Exception e)
{
    Log.Fatal(e, "zfs-csi-driver stopped");
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}
