using Microsoft.AspNetCore.Server.Kestrel.Core;
using Serilog;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Health;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Options;
using ZfsCsi.Driver.Services;

namespace ZfsCsi.Driver.Hosting;

/// <summary>
/// Builds the gRPC server: Kestrel on a unix socket, HTTP/2 only (the CSI sidecars and csi-sanity
/// are Go clients speaking h2c with <c>:authority: localhost</c>), the services of the chosen mode,
/// the logging and error-mapping interceptors. Tests build the same host.
/// </summary>
public static partial class DriverHost
{
    public static WebApplication Build(DriverOptions options, Serilog.ILogger logger, ICommandRunner? runner = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Host.UseSerilog(logger, dispose: false);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(options.SocketPath, listen => listen.Protocols = HttpProtocols.Http2);
            if (options.HealthPort > 0)
            {
                kestrel.Listen(System.Net.IPAddress.Parse(options.HealthAddress), options.HealthPort, listen =>
                    listen.Protocols = HttpProtocols.Http1
                );
            }
            if (options.MetricsEndpoint is { } metricsAt && !options.MetricsShareHealthListener)
            {
                kestrel.Listen(metricsAt, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(logger);
        services.AddSingleton(options.Zfs);
        services.AddSingleton(options.Volumes);
        // Made here, not by the container: the command runner below is built before it and records into them.
        var metrics = options.MetricsEnabled ? new Metrics.MetricsRegistry() : null;
        var commandMetrics = metrics is null ? null : new Metrics.CommandMetrics(metrics);
        var commands = runner ?? new CliWrapCommandRunner(logger, commandMetrics);
        if (metrics is not null)
        {
            AddMetrics(services, options, metrics, commandMetrics!);
        }
        if (options.BootstrapStatusFile.Length > 0)
        {
            // Registered first: while the bootstrap works, its reason (rebuilding, importing) says more than "pool not imported".
            services.AddSingleton(
                new Core.Bootstrap.BootstrapReadiness(options.BootstrapStatusFile, options.BootstrapStaleAfter)
            );
            services.AddSingleton<IReadinessCheck>(sp => sp.GetRequiredService<Core.Bootstrap.BootstrapReadiness>());
            services.AddSingleton<ICommandRunner>(sp => new Core.Bootstrap.BootstrapGatedRunner(
                commands,
                sp.GetRequiredService<Core.Bootstrap.BootstrapReadiness>(),
                new HashSet<string>(StringComparer.Ordinal) { options.Zfs.ZfsCommand, options.Zfs.ZpoolCommand }
            ));
        }
        else
        {
            services.AddSingleton(commands);
        }
        services.AddSingleton(
            new MountSerializer(
                string.IsNullOrEmpty(options.Zfs.MountLockFile) ? null : options.Zfs.MountLockFile,
                options.Zfs.MountLockTimeout
            )
        );
        services.AddSingleton<ZfsClient>();
        services.AddSingleton<SweepRequests>();
        services.AddSingleton<VolumeManager>();
        services.AddSingleton<ZfsCsi.Core.Snapshots.SnapshotManager>();
        services.AddSingleton<StorageHealth>();
        services.AddSingleton<OperationLocks>();
        services.AddHostedService<IdleMemoryTrim>();
        // The sweep (in the Core) takes the services' per-volume locks before it destroys a half-made volume.
        services.AddSingleton<IVolumeLocks>(sp => sp.GetRequiredService<OperationLocks>());
        if (options.Mode != DriverMode.Node)
        {
            services.AddSingleton<IReadinessCheck>(sp => sp.GetRequiredService<StorageHealth>());
            services.AddHostedService<PeriodicSweep>();
        }
        if (options.Mode != DriverMode.Controller)
        {
            AddNode(services, options);
        }
        services.AddGrpc(grpc =>
        {
            // Order matters: logging is outermost so it records the status code the caller gets.
            grpc.Interceptors.Add<RpcLoggingInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.EnableDetailedErrors = false;
        });

        var app = builder.Build();
        app.MapGrpcService<IdentityService>();
        if (options.Mode != DriverMode.Node)
        {
            app.MapGrpcService<ControllerService>();
            app.MapGrpcService<GroupControllerService>();
        }
        HealthEndpoints.Map(app, options);
        Metrics.MetricsEndpoint.Map(app, options);
        if (options.Mode != DriverMode.Controller)
        {
            app.MapGrpcService<NodeService>();
        }
        return app;
    }

    /// <summary>
    /// Prepares what serving needs: a fresh socket (a stale one from a crash would make bind fail)
    /// and, for the controller, the parent dataset when the pool is there. A pool that is not
    /// imported yet is not fatal: Probe answers not-ready until it is.
    /// </summary>
    public static async Task PrepareAsync(WebApplication app, DriverOptions options, CancellationToken ct)
    {
        var socket = options.SocketPath;
        Directory.CreateDirectory(Path.GetDirectoryName(socket)!);
        if (File.Exists(socket))
        {
            File.Delete(socket);
        }
        var log = app.Services.GetRequiredService<Serilog.ILogger>();
        if (options.Mode is DriverMode.Node or DriverMode.Both)
        {
            WarnIfBehindSymlink(options.Node.KubeletDir, log);
        }
        if (options.Mode == DriverMode.Node)
        {
            return;
        }
        // On OpenZFS every zfs or zpool command opens /dev/zfs, and the kernel loads the zfs module
        // for it (seen on the lab's storage host VM: a driver's start-up "zpool list" loaded the module
        // before the bootstrap ran). A driver gated by the bootstrap leaves ZFS alone until the
        // bootstrap has loaded the module of the right release; the first ready Probe makes the parent.
        if (
            app.Services.GetService<Core.Bootstrap.BootstrapReadiness>() is { } bootstrap
            && await bootstrap.CheckAsync(ct).ConfigureAwait(false) is { Ready: false } waiting
        )
        {
            log.Information(
                "Storage not ready: {Reason}; ZFS is not touched until the bootstrap is ready",
                waiting.Reason
            );
            return;
        }
        var health = app.Services.GetRequiredService<StorageHealth>();
        try
        {
            await health.EnsureParentAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Core.Errors.ZfsCsiException)
        {
            log.Warning(
                "Cannot prepare parent dataset {ParentDataset} yet: {Reason}",
                options.Volumes.ParentDataset,
                e.Message
            );
        }
        var readiness = await health.CheckAsync(ct).ConfigureAwait(false);
        log.Information("Storage {Ready}: {Reason}", readiness.Ready ? "ready" : "not ready", readiness.Reason);
    }

    /// <summary>
    /// The node finds its binds in /proc/self/mountinfo, which shows real paths: a --kubelet-dir
    /// reached through a symlink would match none of them (idempotency, unpublish and the bind
    /// check would all miss), so it is said at start-up rather than found out later.
    /// </summary>
    private static void WarnIfBehindSymlink(string kubeletDir, Serilog.ILogger log)
    {
        var path = kubeletDir.TrimEnd('/');
        for (var dir = new DirectoryInfo(path); dir is not null; dir = dir.Parent)
        {
            if (dir.Exists && dir.LinkTarget is { } target)
            {
                log.Warning(
                    "--kubelet-dir {KubeletDir} goes through the symlink {Link} -> {Target}: mountinfo shows real paths, so give the node plugin (and kubelet's --root-dir) the real path",
                    kubeletDir,
                    dir.FullName,
                    target
                );
                return;
            }
        }
    }
}
