using System.Diagnostics;
using System.Globalization;
using Csi.V1;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Lab;

/// <summary>
/// The driver's footprint, as lab/bench-footprint prints it: start to the first ready Probe (the
/// driver is started by this process, so the clock starts at exec), resident memory idle, after
/// N volume operations (CreateVolume and DeleteVolume, alternating) and after an idle spell, and
/// the latency of each RPC. Every figure is one line "fp LABEL KEY VALUE" for the script's table.
/// Measures only; it asserts nothing.
/// </summary>
public static class Footprint
{
    private sealed record Options(
        string Label,
        string Endpoint,
        int Ops,
        int Starts,
        int IdleSeconds,
        string Log,
        string[] Driver,
        bool StartOnly
    );

    public static async Task<int> RunAsync(string[] args)
    {
        var o = Parse(args);
        var socket = o.Endpoint.StartsWith("unix://", StringComparison.Ordinal)
            ? o.Endpoint["unix://".Length..]
            : o.Endpoint;
        using var log = new StreamWriter(o.Log, append: false) { AutoFlush = true };

        // The first start is not counted: it warms this client (its own JIT, the page cache).
        var startMs = new List<double>();
        Process? driver = null;
        for (var i = 0; i <= o.Starts; i++)
        {
            if (driver is not null)
            {
                await StopAsync(driver);
            }
            var (started, ms) = await StartAsync(o.Driver, socket, o.Endpoint, log);
            driver = started;
            if (i > 0)
            {
                startMs.Add(ms);
            }
        }
        try
        {
            Emit(o.Label, "start_ms", startMs);
            if (o.StartOnly)
            {
                Memory(o.Label, "started", driver!);
                return 0;
            }
            using var channel = UnixSocketChannel.Create(o.Endpoint);
            var identity = new Identity.IdentityClient(channel);
            var controller = new Controller.ControllerClient(channel);

            // Idle: settled after start (the driver gives memory back after 10-20 s without work).
            await Task.Delay(TimeSpan.FromSeconds(25));
            Memory(o.Label, "idle", driver!);

            Emit(o.Label, "rpc_Probe", await Repeat(200, async () => await identity.ProbeAsync(new ProbeRequest())));
            Emit(
                o.Label,
                "rpc_GetPluginInfo",
                await Repeat(200, async () => await identity.GetPluginInfoAsync(new GetPluginInfoRequest()))
            );
            Emit(
                o.Label,
                "rpc_GetCapacity",
                await Repeat(50, async () => await controller.GetCapacityAsync(new GetCapacityRequest()))
            );

            var creates = new List<double>();
            var deletes = new List<double>();
            var prefix = $"fp-{Environment.ProcessId}-";
            for (var i = 0; i < o.Ops / 2; i++)
            {
                var request = new CreateVolumeRequest
                {
                    Name = $"{prefix}{i:D5}",
                    CapacityRange = new CapacityRange { RequiredBytes = 1 << 20 },
                };
                request.VolumeCapabilities.Add(
                    new VolumeCapability
                    {
                        Mount = new VolumeCapability.Types.MountVolume(),
                        AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
                    }
                );
                var sw = Stopwatch.StartNew();
                var id = (await controller.CreateVolumeAsync(request)).Volume.VolumeId;
                creates.Add(sw.Elapsed.TotalMilliseconds);
                sw.Restart();
                await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
                deletes.Add(sw.Elapsed.TotalMilliseconds);
            }
            Emit(o.Label, "rpc_CreateVolume", creates);
            Emit(o.Label, "rpc_DeleteVolume", deletes);
            Emit(
                o.Label,
                "rpc_ListVolumes",
                await Repeat(20, async () => await controller.ListVolumesAsync(new ListVolumesRequest()))
            );
            Memory(o.Label, "after_ops", driver!);

            // Idle: no RPC. Sampled every 5 s; the last sample is what an idle driver keeps.
            var samples = new List<double>();
            for (var t = 0; t < o.IdleSeconds; t += 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
                samples.Add(Rss(driver!).Rss);
            }
            if (samples.Count > 0)
            {
                Console.WriteLine(
                    string.Create(
                        CultureInfo.InvariantCulture,
                        $"fp {o.Label} idle_samples_mib {string.Join(' ', samples.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))}"
                    )
                );
                Memory(o.Label, "after_idle", driver!);
            }
            return 0;
        }
        finally
        {
            await StopAsync(driver!);
        }
    }

    private static Options Parse(string[] args)
    {
        string label = "driver",
            endpoint = "unix:///run/zfs-csi-lab/footprint.sock",
            log = "/dev/null";
        int ops = 1000,
            starts = 5,
            idle = 60;
        var startOnly = false;
        var i = 0;
        for (; i < args.Length && args[i] != "--"; i += 2)
        {
            if (args[i] == "--start-only")
            {
                startOnly = true;
                i--;
                continue;
            }
            var value = i + 1 < args.Length ? args[i + 1] : throw new LabException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--label":
                    label = value;
                    break;
                case "--endpoint":
                    endpoint = value;
                    break;
                case "--ops":
                    ops = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--starts":
                    starts = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--idle-seconds":
                    idle = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--log":
                    log = value;
                    break;
                default:
                    throw new LabException($"unknown flag {args[i]}");
            }
        }
        var driver = args.Skip(i + 1).ToArray();
        if (driver.Length == 0)
        {
            throw new LabException("footprint: give the driver's command after --");
        }
        return new Options(label, endpoint, ops, starts, idle, log, driver, startOnly);
    }

    /// <summary>Starts the driver and waits for a ready Probe: the milliseconds from exec to that answer.</summary>
    private static async Task<(Process Driver, double Ms)> StartAsync(
        string[] argv,
        string socket,
        string endpoint,
        StreamWriter log
    )
    {
        File.Delete(socket);
        var info = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in argv.Skip(1))
        {
            info.ArgumentList.Add(a);
        }
        lock (log)
        {
            log.WriteLine($"{DateTime.Now:HH:mm:ss.fff} footprint: exec {string.Join(' ', argv)}");
        }
        var sw = Stopwatch.StartNew();
        var driver = Process.Start(info) ?? throw new LabException($"cannot start {argv[0]}");
        driver.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.WriteLine(e.Data);
                }
            }
        };
        driver.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.WriteLine(e.Data);
                }
            }
        };
        driver.BeginOutputReadLine();
        driver.BeginErrorReadLine();
        using var channel = UnixSocketChannel.Create(endpoint);
        var identity = new Identity.IdentityClient(channel);
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (driver.HasExited)
            {
                throw new LabException(
                    $"the driver exited with {driver.ExitCode} before it was ready (its log: {((FileStream)log.BaseStream).Name})"
                );
            }
            if (File.Exists(socket))
            {
                try
                {
                    var probe = await identity.ProbeAsync(new ProbeRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                    if (probe.Ready == true)
                    {
                        lock (log)
                        {
                            log.WriteLine(
                                $"{DateTime.Now:HH:mm:ss.fff} footprint: Probe ready after {sw.Elapsed.TotalMilliseconds:F1} ms"
                            );
                        }
                        return (driver, sw.Elapsed.TotalMilliseconds);
                    }
                }
                catch (Grpc.Core.RpcException)
                {
                    // not listening yet
                }
            }
            await Task.Delay(1);
        }
        driver.Kill();
        throw new LabException("the driver did not report ready within 30 s");
    }

    private static async Task StopAsync(Process driver)
    {
        if (!driver.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", driver.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await driver.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                driver.Kill();
            }
        }
        driver.Dispose();
    }

    private static async Task<List<double>> Repeat(int times, Func<Task> action)
    {
        var samples = new List<double>();
        for (var i = 0; i < times; i++)
        {
            var sw = Stopwatch.StartNew();
            await action();
            samples.Add(sw.Elapsed.TotalMilliseconds);
        }
        return samples;
    }

    private static void Emit(string label, string key, List<double> samples)
    {
        if (samples.Count == 0)
        {
            return;
        }
        var s = new Samples(samples);
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"fp {label} {key} n={s.Count} p50={s.Quantile(0.5):F2} p95={s.Quantile(0.95):F2} min={s.Min:F2} max={s.Max:F2}"
            )
        );
    }

    private static (double Rss, double Hwm, double Anon, double File) Rss(Process driver)
    {
        double Kib(string key) =>
            double.Parse(
                File.ReadLines($"/proc/{driver.Id}/status")
                    .First(l => l.StartsWith(key + ":", StringComparison.Ordinal))
                    .Split(':')[1]
                    .Trim()
                    .Split(' ')[0],
                CultureInfo.InvariantCulture
            ) / 1024;
        return (Kib("VmRSS"), Kib("VmHWM"), Kib("RssAnon"), Kib("RssFile"));
    }

    private static void Memory(string label, string when, Process driver)
    {
        var m = Rss(driver);
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"fp {label} rss_{when}_mib rss={m.Rss:F1} hwm={m.Hwm:F1} anon={m.Anon:F1} file={m.File:F1}"
            )
        );
    }
}
