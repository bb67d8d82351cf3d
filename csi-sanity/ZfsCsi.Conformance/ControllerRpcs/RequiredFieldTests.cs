using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using static ZfsCsi.Conformance.Infrastructure.Requests;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;
using GroupRpc = Csi.V1.GroupControllerServiceCapability.Types.RPC.Types.Type;
using PluginService = Csi.V1.PluginCapability.Types.Service.Types.Type;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>
/// CSI spec, each request's "This field is REQUIRED." and "Size Limits", against the controller
/// and group controller: a request that lacks a REQUIRED field (or carries an oversized or
/// malformed one) is INVALID_ARGUMENT, whatever else it names. So every case pairs the missing
/// field with ids that name nothing, an id shaped like the plugin's own and a foreign one: a plugin
/// that looks the id up (or locks it) before it checks the request answers NOT_FOUND, or OK for a
/// delete, and that is wrong. Nothing may change (<see cref="Footprint"/>). RPCs whose capability
/// is not advertised are skipped here (CapabilityTests checks their UNIMPLEMENTED); RPCs whose only
/// REQUIRED field is the id have nothing to pair it with and are checked without it.
/// </summary>
public sealed class RequiredFieldTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    /// <summary>Ids of nothing: the plugin's own shape first (data/k8s/x, data/k8s/x@y, data/k8s@g-…), then foreign ones.</summary>
    private sealed record Unknown(string[] Volumes, string[] Snapshots, string[] Groups);

    private Unknown Ids =>
        new(
            [$"{Fx.Pool.Parent}/csan-never-made", "csan-unknown-volume"],
            [$"{Fx.Pool.Parent}/csan-never-made@csan-never-taken", "csan-unknown-snapshot"],
            [$"{Fx.Pool.Parent}@g-{new string('0', 24)}", "csan-unknown-group"]
        );

    private static readonly string OverLongName = new('n', 129);

    private delegate IEnumerable<(string What, Func<Task> Call)> Calls(
        Unknown ids,
        Controller.ControllerClient c,
        GroupController.GroupControllerClient g
    );

    private static VolumeContentSource FromSnapshot(string id) =>
        new() { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = id } };

    private static VolumeContentSource FromVolume(string id) =>
        new() { Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = id } };

    private static CreateVolumeRequest CreateFrom(string name, VolumeContentSource source, bool capabilities = true)
    {
        var request = Create(name);
        request.VolumeContentSource = source;
        if (!capabilities)
        {
            request.VolumeCapabilities.Clear();
        }
        return request;
    }

    private static readonly Dictionary<string, (ControllerRpc? Capability, Calls Calls)> Controller = new()
    {
        ["CreateVolume"] = (ControllerRpc.CreateDeleteVolume, (ids, c, _) =>
            ids
                .Snapshots.SelectMany(s =>
                    new (string, Func<Task>)[]
                    {
                        ($"without a name, from snapshot {s}", async () =>
                            await c.CreateVolumeAsync(CreateFrom("", FromSnapshot(s)))
                        ),
                        ($"without volume_capabilities, from snapshot {s}", async () =>
                            await c.CreateVolumeAsync(
                                CreateFrom(UniqueName("req"), FromSnapshot(s), capabilities: false)
                            )
                        ),
                    }
                )
                .Concat(
                    ids.Volumes.SelectMany(v =>
                        new (string, Func<Task>)[]
                        {
                            ($"without a name, from volume {v}", async () =>
                                await c.CreateVolumeAsync(CreateFrom("", FromVolume(v)))
                            ),
                            ($"with a name over 128 bytes, from volume {v}", async () =>
                                await c.CreateVolumeAsync(CreateFrom(OverLongName, FromVolume(v)))
                            ),
                        }
                    )
                )
        ),
        ["DeleteVolume"] = (ControllerRpc.CreateDeleteVolume, (_, c, _) =>
            [("without a volume_id", async () => await c.DeleteVolumeAsync(new DeleteVolumeRequest()))]
        ),
        ["ControllerExpandVolume"] = (ControllerRpc.ExpandVolume, (ids, c, _) => ids
                .Volumes.SelectMany(v =>
                    new (string, Func<Task>)[]
                    {
                        ($"of {v} without a capacity_range", async () =>
                            await c.ControllerExpandVolumeAsync(
                                new ControllerExpandVolumeRequest { VolumeId = v, VolumeCapability = Mount() }
                            )
                        ),
                        ($"of {v} with a negative required_bytes", async () => await c.ControllerExpandVolumeAsync(
                                new ControllerExpandVolumeRequest
                                {
                                    VolumeId = v,
                                    CapacityRange = new CapacityRange { RequiredBytes = -1 },
                                }
                            )),
                    }
                )
                .Append(
                    ("without a volume_id", async () =>
                        await c.ControllerExpandVolumeAsync(
                            new ControllerExpandVolumeRequest
                            {
                                CapacityRange = new CapacityRange { RequiredBytes = VolumeSize },
                            }
                        )
                    )
                )),
        ["ControllerModifyVolume"] = (ControllerRpc.ModifyVolume, (ids, c, _) =>
            ids
                .Volumes.Select(v =>
                    (
                        $"of {v} without mutable_parameters",
                        (Func<Task>)(
                            async () =>
                                await c.ControllerModifyVolumeAsync(new ControllerModifyVolumeRequest { VolumeId = v })
                        )
                    )
                )
                .Append(
                    ("without a volume_id", async () =>
                        await c.ControllerModifyVolumeAsync(
                            new ControllerModifyVolumeRequest { MutableParameters = { ["compression"] = "gzip" } }
                        )
                    )
                )
        ),
        ["ValidateVolumeCapabilities"] = (null, (ids, c, _) =>
            ids
                .Volumes.Select(v =>
                    (
                        $"of {v} without volume_capabilities",
                        (Func<Task>)(
                            async () =>
                                await c.ValidateVolumeCapabilitiesAsync(
                                    new ValidateVolumeCapabilitiesRequest { VolumeId = v }
                                )
                        )
                    )
                )
                .Append(
                    ("without a volume_id", async () =>
                        await c.ValidateVolumeCapabilitiesAsync(
                            new ValidateVolumeCapabilitiesRequest { VolumeCapabilities = { Mount() } }
                        )
                    )
                )
        ),
        ["ControllerGetVolume"] = (ControllerRpc.GetVolume, (_, c, _) =>
            [("without a volume_id", async () => await c.ControllerGetVolumeAsync(new ControllerGetVolumeRequest()))]
        ),
        ["ControllerGetVolumeHealth"] = (ControllerRpc.GetVolumeHealth, (_, c, _) =>
            [
                ("without a volume_id", async () =>
                    await c.ControllerGetVolumeHealthAsync(new ControllerGetVolumeHealthRequest())
                ),
            ]
        ),
        ["CreateSnapshot"] = (ControllerRpc.CreateDeleteSnapshot, (ids, c, _) =>
            ids
                .Volumes.SelectMany(v =>
                    new (string, Func<Task>)[]
                    {
                        ($"of {v} without a name", async () =>
                            await c.CreateSnapshotAsync(new CreateSnapshotRequest { SourceVolumeId = v })
                        ),
                        ($"of {v} with a name over 128 bytes", async () =>
                            await c.CreateSnapshotAsync(
                                new CreateSnapshotRequest { SourceVolumeId = v, Name = OverLongName }
                            )
                        ),
                    }
                )
                .Append(
                    ("without a source_volume_id", async () =>
                        await c.CreateSnapshotAsync(new CreateSnapshotRequest { Name = UniqueName("snap-req") })
                    )
                )
        ),
        ["DeleteSnapshot"] = (ControllerRpc.CreateDeleteSnapshot, (_, c, _) =>
            [("without a snapshot_id", async () => await c.DeleteSnapshotAsync(new DeleteSnapshotRequest()))]
        ),
        ["GetSnapshot"] = (ControllerRpc.GetSnapshot, (_, c, _) =>
            [("without a snapshot_id", async () => await c.GetSnapshotAsync(new GetSnapshotRequest()))]
        ),
        // No REQUIRED field, but a malformed one (ListSnapshots: "max_entries ... MUST NOT be negative")
        // is INVALID_ARGUMENT before the filters are looked up.
        ["ListSnapshots"] = (ControllerRpc.ListSnapshots, (ids, c, _) =>
            ids
                .Volumes.Select(v =>
                    (
                        $"with a negative max_entries, of source volume {v}",
                        (Func<Task>)(
                            async () =>
                                await c.ListSnapshotsAsync(
                                    new ListSnapshotsRequest { MaxEntries = -1, SourceVolumeId = v }
                                )
                        )
                    )
                )
                .Concat(
                    ids.Snapshots.Select(s =>
                        (
                            $"with a negative max_entries, of snapshot {s}",
                            (Func<Task>)(
                                async () =>
                                    await c.ListSnapshotsAsync(
                                        new ListSnapshotsRequest { MaxEntries = -1, SnapshotId = s }
                                    )
                            )
                        )
                    )
                )
        ),
        ["CreateVolumeGroupSnapshot"] = (null, (ids, _, g) =>
            [
                ("without a name", async () =>
                    await g.CreateVolumeGroupSnapshotAsync(
                        new CreateVolumeGroupSnapshotRequest { SourceVolumeIds = { ids.Volumes } }
                    )
                ),
                ("with a name over 128 bytes", async () =>
                    await g.CreateVolumeGroupSnapshotAsync(
                        new CreateVolumeGroupSnapshotRequest { Name = OverLongName, SourceVolumeIds = { ids.Volumes } }
                    )
                ),
                ("without source_volume_ids", async () =>
                    await g.CreateVolumeGroupSnapshotAsync(
                        new CreateVolumeGroupSnapshotRequest { Name = UniqueName("group-req") }
                    )
                ),
                ("with an empty source volume id", async () =>
                    await g.CreateVolumeGroupSnapshotAsync(
                        new CreateVolumeGroupSnapshotRequest
                        {
                            Name = UniqueName("group-req"),
                            SourceVolumeIds = { ids.Volumes[0], "" },
                        }
                    )
                ),
            ]
        ),
        ["DeleteVolumeGroupSnapshot"] = (null, (ids, _, g) =>
            new (string, Func<Task>)[]
            {
                ("without a group_snapshot_id", async () =>
                    await g.DeleteVolumeGroupSnapshotAsync(
                        new DeleteVolumeGroupSnapshotRequest { SnapshotIds = { ids.Snapshots } }
                    )
                ),
            }.Concat(
                ids.Groups.Select(id =>
                    (
                        $"of {id} with an empty snapshot id",
                        (Func<Task>)(
                            async () =>
                                await g.DeleteVolumeGroupSnapshotAsync(
                                    new DeleteVolumeGroupSnapshotRequest
                                    {
                                        GroupSnapshotId = id,
                                        SnapshotIds = { ids.Snapshots[0], "" },
                                    }
                                )
                        )
                    )
                )
            )
        ),
        ["GetVolumeGroupSnapshot"] = (null, (ids, _, g) =>
            new (string, Func<Task>)[]
            {
                ("without a group_snapshot_id", async () =>
                    await g.GetVolumeGroupSnapshotAsync(
                        new GetVolumeGroupSnapshotRequest { SnapshotIds = { ids.Snapshots } }
                    )
                ),
            }.Concat(
                ids.Groups.Select(id =>
                    (
                        $"of {id} with an empty snapshot id",
                        (Func<Task>)(
                            async () =>
                                await g.GetVolumeGroupSnapshotAsync(
                                    new GetVolumeGroupSnapshotRequest
                                    {
                                        GroupSnapshotId = id,
                                        SnapshotIds = { ids.Snapshots[0], "" },
                                    }
                                )
                        )
                    )
                )
            )
        ),
    };

    public static TheoryData<string> Rpcs => [.. Controller.Keys];

    private static bool IsGroupRpc(string rpc) => rpc.EndsWith("VolumeGroupSnapshot", StringComparison.Ordinal);

    private async Task<bool> ServedAsync(string rpc, ControllerRpc? capability)
    {
        if (IsGroupRpc(rpc))
        {
            return Fx.Advertises(PluginService.GroupControllerService)
                && (
                    await Fx.GroupController.GroupControllerGetCapabilitiesAsync(
                        new GroupControllerGetCapabilitiesRequest()
                    )
                ).Capabilities.Any(c => c.Rpc?.Type == GroupRpc.CreateDeleteGetVolumeGroupSnapshot);
        }
        return Fx.Advertises(PluginService.ControllerService) && (capability is not { } cap || Fx.Advertises(cap));
    }

    [Theory]
    [MemberData(nameof(Rpcs))]
    [Trait("spec", "Error Scheme: Missing required field")]
    public async Task A_request_missing_a_required_field_is_INVALID_ARGUMENT_whatever_ids_it_names_and_changes_nothing(
        string rpc
    )
    {
        var (capability, calls) = Controller[rpc];
        if (!await ServedAsync(rpc, capability))
        {
            return;
        }
        // A real volume (and snapshot) exists, so "nothing changed" covers more than an empty parent.
        var volume = await Volumes.CreateAsync("req-bystander");
        if (Fx.Advertises(ControllerRpc.CreateDeleteSnapshot))
        {
            await Volumes.SnapshotAsync(volume.VolumeId);
        }
        foreach (var (what, call) in calls(Ids, Fx.Controller, Fx.GroupController))
        {
            var failed = await Record.ExceptionAsync(() => FailsAndTouchesNothing(StatusCode.InvalidArgument, call));
            Assert.True(failed is null, $"{rpc} {what}: {failed?.Message}");
        }
    }
}
