using ZfsCsi.Lab;

// zfs-csi-lab walk --endpoint unix:///run/zfs-csi-lab/controller.sock
// zfs-csi-lab walk-encrypted --phase before|after --endpoint ... --cluster DIR --storage-host "WORDS" --json STATE
// zfs-csi-lab bench --endpoint ... [--volumes 200]
// zfs-csi-lab footprint --label aot [--ops 1000] [--starts 5] [--idle-seconds 60] -- DRIVER ARGV...
var command = args.FirstOrDefault();
try
{
    if (command == "footprint")
    {
        return await Footprint.RunAsync(args.Skip(1).ToArray());
    }
    var options = LabArgs.Parse(args.Skip(1).ToArray());
    return command switch
    {
        "walk" => await Walk.RunAsync(options),
        "walk-encrypted" => await EncryptionWalk.RunAsync(options),
        "bench" => await Bench.RunAsync(options),
        "bench-scale" => await ScaleBench.RunAsync(options),
        "probe" => await ProbeAsync(options),
        _ => Usage(),
    };
}
catch (LabException e)
{
    await Console.Error.WriteLineAsync($"zfs-csi-lab: {e.Message}");
    return 1;
}

// Prints whether the driver reports ready (Identity.Probe); exit 0 either way, 1 if it cannot be reached.
static async Task<int> ProbeAsync(LabArgs options)
{
    using var channel = Csi.V1.UnixSocketChannel.Create(options.Endpoint);
    var probe = await new Csi.V1.Identity.IdentityClient(channel).ProbeAsync(new Csi.V1.ProbeRequest());
    Console.WriteLine(probe.Ready == true ? "ready" : "NOT ready");
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine(
        "usage: zfs-csi-lab walk|walk-encrypted|bench|bench-scale|probe|footprint --endpoint unix:///path.sock [--volumes N] [--snapshots N] [--json FILE] [--size-mib N]"
    );
    return 2;
}
