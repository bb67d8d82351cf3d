using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Csi.V1;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>A controller serving /metrics on loopback, reading the pool every second.</summary>
public sealed class MetricsFixture : DriverFixture
{
    public int MetricsPort { get; } = FreePort();

    protected override IEnumerable<string> ExtraArgs =>
        ["--mode", "controller", "--metrics-address", $"127.0.0.1:{MetricsPort}", "--metrics-interval", "1"];

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// The storage metrics a scrape shows are what zfs and zpool say of the same pool: a driver on a
/// real zfs-fuse pool with volumes that hold data, a snapshot's overwritten blocks and a kept
/// volume, scraped over HTTP and compared with <c>zfs get -p</c> and <c>zpool list</c>.
/// </summary>
public sealed class MetricsOnPoolTests(MetricsFixture driver) : IClassFixture<MetricsFixture>
{
    private const long MiB = 1024 * 1024;

    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    [Fact]
    public async Task A_scrape_shows_the_pool_and_each_volume_as_zfs_reports_them()
    {
        var full = (await Controller.CreateVolumeAsync(Create(Unique("pvc-metrics-full"), 64 * MiB))).Volume.VolumeId;
        var empty = (await Controller.CreateVolumeAsync(Create(Unique("pvc-metrics-empty"), 32 * MiB))).Volume.VolumeId;
        // Incompressible data, a snapshot, then new data over it: referenced and usedbysnapshots both grow.
        var file = Path.Combine(await driver.GetPropertyAsync(full, "mountpoint"), "data.bin");
        await File.WriteAllBytesAsync(file, RandomBytes(4 * MiB));
        await Controller.CreateSnapshotAsync(
            new CreateSnapshotRequest { Name = Unique("snapshot-metrics"), SourceVolumeId = full }
        );
        await File.WriteAllBytesAsync(file, RandomBytes(3 * MiB));
        // Deleted over CSI while a snapshot needs its blocks: kept, counted apart from the volumes.
        var kept = (await Controller.CreateVolumeAsync(Create(Unique("pvc-metrics-kept")))).Volume.VolumeId;
        await File.WriteAllBytesAsync(
            Path.Combine(await driver.GetPropertyAsync(kept, "mountpoint"), "data.bin"),
            RandomBytes(2 * MiB)
        );
        await Controller.CreateSnapshotAsync(
            new CreateSnapshotRequest { Name = Unique("snapshot-metrics-kept"), SourceVolumeId = kept }
        );
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = kept });

        // ZFS settles the space figures at its next transaction group; the driver reads every second.
        // So: compare until a scrape and the zfs figures read around it agree, or say what differed.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        List<string> differences;
        while (true)
        {
            var expected = await ExpectedAsync(full, empty);
            var scraped = Parse(await http.GetStringAsync($"http://127.0.0.1:{driver.MetricsPort}/metrics"));
            differences =
            [
                .. expected
                    .Where(e => !scraped.TryGetValue(e.Key, out var v) || v != e.Value)
                    .Select(e =>
                        $"{e.Key}: zfs says {e.Value}, the scrape {(scraped.TryGetValue(e.Key, out var v) ? v : "nothing")}"
                    ),
            ];
            if (differences.Count == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(1000);
        }
        Assert.True(differences.Count == 0, "after 60 s:\n" + string.Join('\n', differences));
    }

    /// <summary>What each series must show, read from zfs and zpool themselves.</summary>
    private async Task<Dictionary<string, double>> ExpectedAsync(string full, string empty)
    {
        var pool = driver.Pool.Name;
        var root = await GetAsync(pool, "used", "available");
        var expected = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [$"zfs_csi_pool_imported{{pool=\"{pool}\"}}"] = 1,
            [$"zfs_csi_pool_health{{pool=\"{pool}\",health=\"{await PoolHealthAsync(pool)}\"}}"] = 1,
            [$"zfs_csi_pool_size_bytes{{pool=\"{pool}\"}}"] = root["used"] + root["available"],
            [$"zfs_csi_pool_free_bytes{{pool=\"{pool}\"}}"] = root["available"],
        };
        foreach (var id in new[] { full, empty })
        {
            var v = await GetAsync(id, "referenced", "usedbysnapshots", "refquota");
            expected[$"zfs_csi_volume_referenced_bytes{{volume_id=\"{id}\"}}"] = v["referenced"];
            expected[$"zfs_csi_volume_used_by_snapshots_bytes{{volume_id=\"{id}\"}}"] = v["usedbysnapshots"];
            expected[$"zfs_csi_volume_quota_bytes{{volume_id=\"{id}\"}}"] = v["refquota"];
            expected[$"zfs_csi_volume_compress_ratio{{volume_id=\"{id}\"}}"] = 1;
        }
        // The kept volume: the one dataset under the parent whose state marker says deleted.
        var keptRows = (
            await Sh.CheckAsync(
                "zfs",
                "get",
                "-H",
                "-p",
                "-d",
                "1",
                "-o",
                "name,value",
                Core.Volumes.Markers.State,
                driver.Pool.Parent
            )
        )
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .Where(c => c[1] == Core.Volumes.Markers.StateDeleted)
            .ToList();
        Assert.Single(keptRows);
        expected["zfs_csi_kept_volumes"] = 1;
        expected["zfs_csi_kept_volumes_used_bytes"] = (await GetAsync(keptRows[0][0], "used"))["used"];
        expected["zfs_csi_storage_collection_success"] = 1;
        return expected;
    }

    private static async Task<Dictionary<string, double>> GetAsync(string dataset, params string[] properties)
    {
        var output = await Sh.CheckAsync(
            "zfs",
            "get",
            "-H",
            "-p",
            "-o",
            "property,value",
            string.Join(',', properties),
            dataset
        );
        return output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .ToDictionary(c => c[0], c => double.Parse(c[1], CultureInfo.InvariantCulture));
    }

    private static async Task<string> PoolHealthAsync(string pool) =>
        (await Sh.CheckAsync("zpool", "list", "-H", "-o", "health", pool)).Trim();

    /// <summary>The samples of a Prometheus text exposition, by series (name and labels as printed).</summary>
    private static Dictionary<string, double> Parse(string exposition) =>
        exposition
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#'))
            .Select(l => (Series: l[..l.LastIndexOf(' ')], Value: l[(l.LastIndexOf(' ') + 1)..]))
            .ToDictionary(
                s => s.Series,
                s => double.Parse(s.Value, CultureInfo.InvariantCulture),
                StringComparer.Ordinal
            );

    private static byte[] RandomBytes(long count)
    {
        var bytes = new byte[count];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
