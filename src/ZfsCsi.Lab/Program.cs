using ZfsCsi.Lab;

// zfs-csi-lab walk --endpoint unix:///run/zfs-csi-lab/controller.sock
// zfs-csi-lab bench --endpoint ... [--volumes 200]
var command = args.FirstOrDefault();
var options = LabArgs.Parse(args.Skip(1).ToArray());
try
{
    return command switch
    {
        "walk" => await Walk.RunAsync(options),
        "bench" => await Bench.RunAsync(options),
        _ => Usage(),
    };
}
catch (LabException e)
{
    await Console.Error.WriteLineAsync($"zfs-csi-lab: {e.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: zfs-csi-lab walk|bench --endpoint unix:///path.sock [--volumes N] [--size-mib N]");
    return 2;
}
