using System.Diagnostics;
using System.Globalization;
using Csi.V1;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Lab;

/// <summary>
/// Measures the driver over its socket and prints the figures: latency of create, list, capacity and
/// delete, with N volumes in the pool, and the driver's memory when its pid is given. Measures
/// only; it asserts nothing about speed.
/// </summary>
public static class Bench
{
    public static async Task<int> RunAsync(LabArgs args)
    {
        using var channel = UnixSocketChannel.Create(args.Endpoint);
        var controller = new Controller.ControllerClient(channel);
        var prefix = $"bench-{Environment.ProcessId}-";
        var ids = new List<string>();
        Console.WriteLine($"zfs-csi bench: {args.Volumes} volumes of 1 MiB, endpoint {args.Endpoint}");
        PrintMemory(args, "before");
        try
        {
            var creates = new List<double>();
            for (var i = 0; i < args.Volumes; i++)
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
                ids.Add((await controller.CreateVolumeAsync(request)).Volume.VolumeId);
                creates.Add(sw.Elapsed.TotalMilliseconds);
            }
            Print("CreateVolume", creates);

            var lists = await Repeat(10, async () => await controller.ListVolumesAsync(new ListVolumesRequest()));
            Print($"ListVolumes ({ids.Count}+ volumes, one page)", lists);
            var pages = await Repeat(10, async () =>
            {
                var token = "";
                do
                {
                    token = (
                        await controller.ListVolumesAsync(
                            new ListVolumesRequest { MaxEntries = 50, StartingToken = token }
                        )
                    ).NextToken;
                } while (token.Length > 0);
            });
            Print("ListVolumes, all pages of 50", pages);
            Print(
                "GetCapacity",
                await Repeat(20, async () => await controller.GetCapacityAsync(new GetCapacityRequest()))
            );
            PrintMemory(args, $"with {ids.Count} volumes");
        }
        finally
        {
            var deletes = new List<double>();
            foreach (var id in ids)
            {
                var sw = Stopwatch.StartNew();
                await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
                deletes.Add(sw.Elapsed.TotalMilliseconds);
            }
            Print("DeleteVolume", deletes);
            PrintMemory(args, "after");
        }
        return 0;
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

    private static void Print(string what, List<double> samples)
    {
        if (samples.Count == 0)
        {
            return;
        }
        var s = new Samples(samples);
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"{what, -40} n={s.Count, 5}  p50={s.Quantile(0.5), 8:F1} ms  p95={s.Quantile(0.95), 8:F1} ms  max={s.Max, 8:F1} ms"
            )
        );
    }

    private static void PrintMemory(LabArgs args, string when)
    {
        var pid = Environment.GetEnvironmentVariable("ZFS_CSI_DRIVER_PID");
        if (pid is null || !File.Exists($"/proc/{pid}/status"))
        {
            return;
        }
        var rss = File.ReadLines($"/proc/{pid}/status")
            .FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            ?.Split(':')[1]
            .Trim();
        Console.WriteLine($"driver memory {when, -24} VmRSS {rss}");
    }
}
