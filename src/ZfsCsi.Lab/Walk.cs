using Csi.V1;
using Grpc.Core;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Lab;

/// <summary>
/// The README's walk: one volume through its life over the CSI socket, each step printed with
/// what the driver answered. Fails (exit 1) on the first step that does not do what it should.
/// </summary>
public static class Walk
{
    private const long MiB = 1024 * 1024;

    public static async Task<int> RunAsync(LabArgs args)
    {
        using var channel = UnixSocketChannel.Create(args.Endpoint);
        var identity = new Identity.IdentityClient(channel);
        var controller = new Controller.ControllerClient(channel);

        var info = await Step(
            "identify the driver",
            async () =>
            {
                var i = await identity.GetPluginInfoAsync(new GetPluginInfoRequest());
                var probe = await identity.ProbeAsync(new ProbeRequest());
                return (i, probe.Ready == true ? "ready" : "NOT ready");
            },
            r => $"{r.i.Name} {r.i.VendorVersion}, {r.Item2}"
        );

        var name = $"lab-walk-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
        var volume = await Step(
            $"create volume '{name}' of {args.SizeMiB} MiB",
            async () =>
            {
                var request = new CreateVolumeRequest
                {
                    Name = name,
                    CapacityRange = new CapacityRange { RequiredBytes = args.SizeMiB * MiB },
                };
                request.VolumeCapabilities.Add(
                    new VolumeCapability
                    {
                        Mount = new VolumeCapability.Types.MountVolume(),
                        AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.MultiNodeMultiWriter },
                    }
                );
                request.Parameters.Add("compression", "on");
                return (await controller.CreateVolumeAsync(request)).Volume;
            },
            v => $"id {v.VolumeId}, {v.CapacityBytes / MiB} MiB (compression=on, capacity as refquota)"
        );

        await Step(
            "create it again (a retry by Kubernetes)",
            async () =>
            {
                var request = new CreateVolumeRequest
                {
                    Name = name,
                    CapacityRange = new CapacityRange { RequiredBytes = args.SizeMiB * MiB },
                };
                request.VolumeCapabilities.Add(
                    new VolumeCapability
                    {
                        Mount = new VolumeCapability.Types.MountVolume(),
                        AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.MultiNodeMultiWriter },
                    }
                );
                request.Parameters.Add("compression", "on");
                var again = (await controller.CreateVolumeAsync(request)).Volume;
                return again.VolumeId == volume.VolumeId
                    ? again
                    : throw new LabException($"a retry returned another volume: {again.VolumeId}");
            },
            v => $"same volume {v.VolumeId}: idempotent by name"
        );

        await Step(
            $"expand it to {args.SizeMiB * 2} MiB",
            async () =>
                await controller.ControllerExpandVolumeAsync(
                    new ControllerExpandVolumeRequest
                    {
                        VolumeId = volume.VolumeId,
                        CapacityRange = new CapacityRange { RequiredBytes = args.SizeMiB * 2 * MiB },
                    }
                ),
            r => $"{r.CapacityBytes / MiB} MiB, node expansion required: {r.NodeExpansionRequired}"
        );

        await Step(
            "list volumes",
            async () => await controller.ListVolumesAsync(new ListVolumesRequest()),
            r => string.Join(", ", r.Entries.Select(e => $"{e.Volume.VolumeId} ({e.Volume.CapacityBytes / MiB} MiB)"))
        );

        await Step(
            "get its health",
            async () =>
                await controller.ControllerGetVolumeHealthAsync(
                    new ControllerGetVolumeHealthRequest { VolumeId = volume.VolumeId }
                ),
            r =>
                r.VolumeHealth.HealthStatuses.Count == 0
                    ? "healthy"
                    : string.Join(
                        "; ",
                        r.VolumeHealth.HealthStatuses.Select(s => $"{s.Status} {s.Reason}: {s.Message}")
                    )
        );

        await Step(
            "ask for the pool's capacity",
            async () => await controller.GetCapacityAsync(new GetCapacityRequest()),
            r => $"{r.AvailableCapacity / MiB} MiB available, largest volume {r.MaximumVolumeSize / MiB} MiB"
        );

        await Step(
            "try a bad request: block access",
            async () =>
            {
                var request = new CreateVolumeRequest { Name = name + "-block" };
                request.VolumeCapabilities.Add(
                    new VolumeCapability
                    {
                        Block = new VolumeCapability.Types.BlockVolume(),
                        AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
                    }
                );
                try
                {
                    await controller.CreateVolumeAsync(request);
                    throw new LabException("block access was accepted");
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
                {
                    return e;
                }
            },
            e => $"{e.StatusCode}: {e.Status.Detail}"
        );

        await Step(
            "delete it",
            async () => await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId }),
            _ => "deleted"
        );
        await Step(
            "delete it again (a retry)",
            async () => await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId }),
            _ => "OK: already gone"
        );
        await Step(
            "list volumes",
            async () =>
            {
                var r = await controller.ListVolumesAsync(new ListVolumesRequest());
                return r.Entries.Any(e => e.Volume.VolumeId == volume.VolumeId)
                    ? throw new LabException("the deleted volume is still listed")
                    : r;
            },
            r => r.Entries.Count == 0 ? "no volumes" : $"{r.Entries.Count} other volume(s)"
        );

        if (args.Cluster is not null)
        {
            await ClusterWalk.RunAsync(
                controller,
                new GroupController.GroupControllerClient(channel),
                args.Cluster,
                new StorageHostShell(args.StorageHost)
            );
            await Step(
                "list volumes after the clean-up",
                async () => await controller.ListVolumesAsync(new ListVolumesRequest()),
                r =>
                    r.Entries.Count == 0
                        ? "no volumes"
                        : $"{r.Entries.Count} volume(s) left: {string.Join(", ", r.Entries.Select(e => e.Volume.VolumeId))}"
            );
        }

        Console.WriteLine($"walk finished: {info.i.Name} served volume {volume.VolumeId} from create to delete");
        return 0;
    }

    public static async Task<T> Step<T>(string what, Func<Task<T>> action, Func<T, string> describe)
    {
        Console.Write($"==> {what}: ");
        try
        {
            var result = await action();
            Console.WriteLine(describe(result));
            return result;
        }
        catch (RpcException e)
        {
            Console.WriteLine($"FAILED {e.StatusCode}: {e.Status.Detail}");
            throw new LabException($"step '{what}' failed: {e.StatusCode}: {e.Status.Detail}");
        }
    }
}
