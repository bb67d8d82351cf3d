using System.Globalization;

namespace ZfsCsi.Lab;

/// <summary>The lab client's flags.</summary>
public sealed record LabArgs(
    string Endpoint,
    int Volumes,
    long SizeMiB,
    string? Cluster,
    int Snapshots = 0,
    string? Json = null,
    bool Cleanup = true,
    string? StorageHost = null,
    string? Phase = null
)
{
    public static LabArgs Parse(string[] args)
    {
        var endpoint = "unix:///run/zfs-csi-lab/controller.sock";
        var volumes = 200;
        long size = 64;
        string? cluster = null;
        var snapshots = 0;
        string? json = null;
        var cleanup = true;
        string? storageHost = null;
        string? phase = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--endpoint":
                    endpoint = args[i + 1];
                    break;
                case "--volumes":
                    volumes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--size-mib":
                    size = long.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--cluster":
                    cluster = args[i + 1];
                    break;
                case "--snapshots":
                    snapshots = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--json":
                    json = args[i + 1];
                    break;
                case "--cleanup":
                    cleanup = args[i + 1] != "no";
                    break;
                case "--storage-host":
                    // How to run a command on the storage host: words put before it ("" or absent: here).
                    storageHost = args[i + 1];
                    break;
                case "--phase":
                    phase = args[i + 1];
                    break;
                default:
                    throw new LabException($"unknown flag {args[i]}");
            }
        }
        return new LabArgs(endpoint, volumes, size, cluster, snapshots, json, cleanup, storageHost, phase);
    }
}

public sealed class LabException(string message) : Exception(message);
