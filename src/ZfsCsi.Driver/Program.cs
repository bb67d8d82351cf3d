using Serilog;
using Serilog.Formatting.Compact;
using ZfsCsi.Driver.Hosting;

if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(DriverOptions.Usage);
    return 0;
}

DriverOptions options;
try
{
    options = DriverOptions.Parse(args);
}
catch (OptionsException e)
{
    await Console.Error.WriteLineAsync($"zfs-csi-driver: {e.Message}\n\n{DriverOptions.Usage}");
    return 2;
}

var logConfig = new LoggerConfiguration()
    .MinimumLevel.Information()
    .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
    .Enrich.WithProperty("Mode", options.Mode)
    .Enrich.WithProperty("NodeId", options.NodeId);
logConfig = options.LogFormat == "json"
    ? logConfig.WriteTo.Console(new CompactJsonFormatter())
    : logConfig.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {Message:lj}{NewLine}{Exception}");
Log.Logger = logConfig.CreateLogger();

try
{
    var app = DriverHost.Build(options, Log.Logger);
    await DriverHost.PrepareAsync(app, options, CancellationToken.None);
    Log.Information("zfs-csi {Version} (CSI spec {CsiSpecVersion}) serving {Mode} as {DriverName} on {Endpoint}, parent dataset {ParentDataset}",
        DriverInfo.Version, DriverInfo.CsiSpecVersion, options.Mode, options.DriverName, options.Endpoint, options.Volumes.ParentDataset);
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
