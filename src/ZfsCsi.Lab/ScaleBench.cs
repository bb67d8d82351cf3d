using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Csi.V1;
using Grpc.Core;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Lab;

/// <summary>
/// Per-object RPCs at scale (lab/bench --snapshots S): fills the pool through the driver to V
/// volumes × S snapshots, then times each RPC that names one volume or one snapshot (medians and
/// p90), the list RPCs, and 8 callers at once (CreateVolume, CreateSnapshot, DeleteSnapshot mixed,
/// as the external-provisioner and -snapshotter do), counting every error by code. lab/bench-floor
/// times the raw zfs commands of the same RPCs on the same pool right after, and lab/bench prints
/// the ratios. Measures only; asserts nothing about speed. Cleans up what it made.
/// </summary>
public static class ScaleBench
{
    private const int Samples = 30;

    public static async Task<int> RunAsync(LabArgs args)
    {
        using var channel = UnixSocketChannel.Create(args.Endpoint);
        var controller = new Controller.ControllerClient(channel);
        var prefix = $"scale-{Environment.ProcessId}-";
        var results = new Dictionary<string, List<double>>();
        var errors = new Dictionary<string, int>();
        var volumes = new List<string>();
        var retries = new Dictionary<string, int>();
        var snapshots = new List<string>();
        Console.WriteLine(
            $"zfs-csi scale bench: {args.Volumes} volumes × {args.Snapshots} snapshots, endpoint {args.Endpoint}"
        );
        void Add(string what, double ms) => (results.TryGetValue(what, out var l) ? l : results[what] = []).Add(ms);
        async Task<T> Time<T>(string what, Func<Task<T>> call)
        {
            var sw = Stopwatch.StartNew();
            var r = await call();
            Add(what, sw.Elapsed.TotalMilliseconds);
            return r;
        }
        var fill = Stopwatch.StartNew();
        try
        {
            for (var v = 0; v < args.Volumes; v++)
            {
                var volumeName = $"{prefix}v{v:D5}";
                var id = (
                    await AsTheCoDoes(retries, async () => await controller.CreateVolumeAsync(Create(volumeName)))
                )
                    .Volume
                    .VolumeId;
                volumes.Add(id);
                for (var s = 0; s < args.Snapshots; s++)
                {
                    var snapshotName = $"{prefix}s{v:D5}-{s:D3}";
                    snapshots.Add(
                        (
                            await AsTheCoDoes(retries, async () =>
                                await controller.CreateSnapshotAsync(
                                    new CreateSnapshotRequest { Name = snapshotName, SourceVolumeId = id }
                                )
                            )
                        )
                            .Snapshot
                            .SnapshotId
                    );
                }
                if ((v + 1) % 100 == 0)
                {
                    Console.WriteLine(
                        string.Create(
                            CultureInfo.InvariantCulture,
                            $"  filled {v + 1} volumes, {snapshots.Count} snapshots in {fill.Elapsed.TotalSeconds:F0} s"
                        )
                    );
                }
            }
            var fillSeconds = fill.Elapsed.TotalSeconds;
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"fill: {volumes.Count} volumes + {snapshots.Count} snapshots in {fillSeconds:F1} s ({(volumes.Count + snapshots.Count) / Math.Max(fillSeconds, 0.001):F1} objects/s); retried as a CO would: {(retries.Count == 0 ? "none" : string.Join(", ", retries.Select(r => $"{r.Key} {r.Value}")))}"
                )
            );

            var random = new Random(42);
            for (var i = 0; i < Samples; i++)
            {
                var name = $"{prefix}x{i:D3}";
                var volume = (await Time("CreateVolume", async () => await controller.CreateVolumeAsync(Create(name))))
                    .Volume
                    .VolumeId;
                await Time("CreateVolume (retry)", async () => await controller.CreateVolumeAsync(Create(name)));
                await Time("ControllerGetVolume", async () =>
                    await controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = volume })
                );
                await Time("ControllerExpandVolume", async () => await controller.ControllerExpandVolumeAsync(
                        new ControllerExpandVolumeRequest
                        {
                            VolumeId = volume,
                            CapacityRange = new CapacityRange { RequiredBytes = 2 << 20 },
                        }
                    ));
                var snapshotName = $"{prefix}xs{i:D3}";
                var snapshot = (
                    await Time("CreateSnapshot", async () =>
                        await controller.CreateSnapshotAsync(
                            new CreateSnapshotRequest { Name = snapshotName, SourceVolumeId = volume }
                        )
                    )
                )
                    .Snapshot
                    .SnapshotId;
                await Time("CreateSnapshot (retry)", async () =>
                    await controller.CreateSnapshotAsync(
                        new CreateSnapshotRequest { Name = snapshotName, SourceVolumeId = volume }
                    )
                );
                var existing = snapshots.Count > 0 ? snapshots[random.Next(snapshots.Count)] : snapshot;
                await Time("GetSnapshot", async () =>
                    await controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = existing })
                );
                await Time("ListSnapshots by snapshot id", async () =>
                    await controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = existing })
                );
                await Time("DeleteSnapshot", async () =>
                    await controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot })
                );
                await Time("DeleteVolume", async () =>
                    await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume })
                );
            }
            for (var i = 0; i < 5; i++)
            {
                await Time("ListSnapshots, one page of 100", async () =>
                    await controller.ListSnapshotsAsync(new ListSnapshotsRequest { MaxEntries = 100 })
                );
                await Time("ListVolumes, one page of 100", async () =>
                    await controller.ListVolumesAsync(new ListVolumesRequest { MaxEntries = 100 })
                );
                var source = volumes.Count > 0 ? volumes[random.Next(volumes.Count)] : "";
                await Time("ListSnapshots by source volume", async () =>
                    await controller.ListSnapshotsAsync(new ListSnapshotsRequest { SourceVolumeId = source })
                );
            }

            // Eight callers at once, as the sidecars' default workers.
            var concurrent = Stopwatch.StartNew();
            await Task.WhenAll(
                Enumerable
                    .Range(0, 8)
                    .Select(async worker =>
                    {
                        for (var i = 0; i < 10; i++)
                        {
                            try
                            {
                                var volume = (
                                    await Time("concurrent CreateVolume", async () =>
                                        await controller.CreateVolumeAsync(Create($"{prefix}c{worker}-{i}"))
                                    )
                                )
                                    .Volume
                                    .VolumeId;
                                var snapshot = (
                                    await Time("concurrent CreateSnapshot", async () =>
                                        await controller.CreateSnapshotAsync(
                                            new CreateSnapshotRequest
                                            {
                                                Name = $"{prefix}cs{worker}-{i}",
                                                SourceVolumeId = volume,
                                            }
                                        )
                                    )
                                )
                                    .Snapshot
                                    .SnapshotId;
                                await Time("concurrent DeleteSnapshot", async () =>
                                    await controller.DeleteSnapshotAsync(
                                        new DeleteSnapshotRequest { SnapshotId = snapshot }
                                    )
                                );
                                await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume });
                            }
                            catch (RpcException e)
                            {
                                lock (errors)
                                {
                                    errors[e.StatusCode.ToString()] =
                                        errors.GetValueOrDefault(e.StatusCode.ToString()) + 1;
                                }
                            }
                        }
                    })
            );
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"8 callers × 10 (CreateVolume, CreateSnapshot, DeleteSnapshot, DeleteVolume) in {concurrent.Elapsed.TotalSeconds:F1} s; errors: {(errors.Count == 0 ? "none" : string.Join(", ", errors.Select(e => $"{e.Key} {e.Value}")))}"
                )
            );
            foreach (var (what, samples) in results)
            {
                Print(what, samples);
            }
            // The raw zfs floor on this same pool, with the whole inventory still in it.
            if (Environment.GetEnvironmentVariable("ZFS_CSI_BENCH_FLOOR") is { Length: > 0 } floor)
            {
                using var process = Process.Start(
                    new ProcessStartInfo("/bin/sh", ["-c", floor]) { RedirectStandardOutput = true }
                ) ?? throw new LabException($"cannot start the floor: {floor}");
                Console.Write(await process.StandardOutput.ReadToEndAsync());
                await process.WaitForExitAsync();
            }
            if (args.Json is { } path)
            {
                var json = new Dictionary<string, object>
                {
                    ["volumes"] = args.Volumes,
                    ["snapshots_per_volume"] = args.Snapshots,
                    ["fill_seconds"] = fillSeconds,
                    ["concurrent_errors"] = errors,
                    ["rpcs"] = results.ToDictionary(
                        r => r.Key,
                        r =>
                        {
                            var s = new Samples(r.Value);
                            return new
                            {
                                n = s.Count,
                                p50_ms = s.Quantile(0.5),
                                p90_ms = s.Quantile(0.9),
                            };
                        }
                    ),
                };
                await File.WriteAllTextAsync(
                    path,
                    JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true })
                );
            }
        }
        finally
        {
            if (!args.Cleanup)
            {
                Console.WriteLine(
                    $"cleanup skipped (--cleanup no): {snapshots.Count} snapshots and {volumes.Count} volumes left in the pool"
                );
                snapshots.Clear();
                volumes.Clear();
            }
            var cleanup = Stopwatch.StartNew();
            foreach (var snapshot in snapshots)
            {
                await controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot });
            }
            foreach (var volume in volumes)
            {
                await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume });
            }
            Console.WriteLine(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"cleanup: {snapshots.Count} snapshots and {volumes.Count} volumes deleted in {cleanup.Elapsed.TotalSeconds:F1} s"
                )
            );
        }
        return 0;
    }

    /// <summary>
    /// The call, retried like the sidecars retry (the CSI spec makes every RPC idempotent): on a
    /// code that says "try again" (ABORTED, UNAVAILABLE, DEADLINE_EXCEEDED, FAILED_PRECONDITION),
    /// up to five times; each retry is counted and printed, never hidden.
    /// </summary>
    private static async Task<T> AsTheCoDoes<T>(Dictionary<string, int> retries, Func<Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (RpcException e)
                when (attempt < 5
                    && e.StatusCode
                        is StatusCode.Aborted
                            or StatusCode.Unavailable
                            or StatusCode.DeadlineExceeded
                            or StatusCode.FailedPrecondition
                )
            {
                retries[e.StatusCode.ToString()] = retries.GetValueOrDefault(e.StatusCode.ToString()) + 1;
                await Task.Delay(200 * attempt);
            }
        }
    }

    private static CreateVolumeRequest Create(string name)
    {
        var request = new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = 1 << 20 },
        };
        request.VolumeCapabilities.Add(
            new VolumeCapability
            {
                Mount = new VolumeCapability.Types.MountVolume(),
                AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
            }
        );
        return request;
    }

    private static void Print(string what, List<double> samples)
    {
        var s = new Samples(samples);
        Console.WriteLine(
            string.Create(
                CultureInfo.InvariantCulture,
                $"{what, -40} n={s.Count, 5}  p50={s.Quantile(0.5), 8:F1} ms  p90={s.Quantile(0.9), 8:F1} ms"
            )
        );
    }
}
