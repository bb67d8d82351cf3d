using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;
using NodeRpc = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Conformance.NodeRpcs;

/// <summary>
/// CSI spec, each Node request's "This field is REQUIRED.", against the node plugin: a request
/// without a REQUIRED field (or with a target path that is not absolute, "It MUST be an absolute
/// path") is INVALID_ARGUMENT whatever volume it names, so every case pairs it with ids of no
/// volume, one shaped like the plugin's own and a foreign one. csi-sanity's "NodeGetVolumeStats
/// should fail when no volume path is provided" (a made-up id, no path) is one of them: looked up
/// first, the id answers NOT_FOUND. Nothing may change: no target made, no mount, no dataset
/// (<see cref="Footprint"/>). RPCs whose capability is not advertised are skipped (NodeTests
/// checks their UNIMPLEMENTED).
/// </summary>
public sealed class NodeRequiredFieldTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    private NodePlugin Plugin =>
        Fx.NodePlugin
        ?? throw new InvalidOperationException(
            "this driver build has no node plugin (no --data-root flag): rebuild the driver from a tree with the node service"
        );

    private string[] UnknownVolumeIds => [$"{Fx.Pool.Parent}/csan-never-made", "csan-unknown-volume"];

    private static NodePublishVolumeRequest Publish(string volumeId, string target, bool capability = true) =>
        new()
        {
            VolumeId = volumeId,
            TargetPath = target,
            VolumeCapability = capability ? Requests.Mount(Mode.SingleNodeMultiWriter) : null,
        };

    private delegate IEnumerable<(string What, Func<Task> Call)> Calls(string[] ids, string target, Node.NodeClient n);

    private static readonly Dictionary<string, (NodeRpc? Capability, Calls Calls)> Node = new()
    {
        ["NodePublishVolume"] = (null, (ids, target, n) =>
            ids.SelectMany(v =>
                    new (string, Func<Task>)[]
                    {
                        ($"of {v} without a target_path", async () => await n.NodePublishVolumeAsync(Publish(v, ""))),
                        ($"of {v} without a volume_capability", async () =>
                            await n.NodePublishVolumeAsync(Publish(v, target, capability: false))
                        ),
                        ($"of {v} at a relative target_path", async () =>
                            await n.NodePublishVolumeAsync(Publish(v, "pods/csan/volumes/mount"))
                        ),
                    }
                )
                .Append(("without a volume_id", async () => await n.NodePublishVolumeAsync(Publish("", target))))
        ),
        ["NodeUnpublishVolume"] = (null, (ids, target, n) =>
            ids.SelectMany(v =>
                    new (string, Func<Task>)[]
                    {
                        ($"of {v} without a target_path", async () =>
                            await n.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = v })
                        ),
                        ($"of {v} at a relative target_path", async () =>
                            await n.NodeUnpublishVolumeAsync(
                                new NodeUnpublishVolumeRequest { VolumeId = v, TargetPath = "pods/csan/volumes/mount" }
                            )
                        ),
                    }
                )
                .Append(
                    ("without a volume_id", async () =>
                        await n.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { TargetPath = target })
                    )
                )
        ),
        ["NodeGetVolumeStats"] = (NodeRpc.GetVolumeStats, (ids, target, n) =>
            ids.Select(v =>
                    (
                        $"of {v} without a volume_path",
                        (Func<Task>)(
                            async () => await n.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = v })
                        )
                    )
                )
                .Append(
                    ("without a volume_id", async () =>
                        await n.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumePath = target })
                    )
                )
        ),
        ["NodeGetVolumeHealth"] = (NodeRpc.GetVolumeHealth, (_, target, n) =>
            [
                ("without a volume_id, at a path where nothing is published", async () =>
                    await n.NodeGetVolumeHealthAsync(new NodeGetVolumeHealthRequest { VolumePublishPath = target })
                ),
            ]
        ),
    };

    public static TheoryData<string> Rpcs => [.. Node.Keys];

    [Theory]
    [MemberData(nameof(Rpcs))]
    [Trait("spec", "Error Scheme: Missing required field")]
    public async Task A_node_request_missing_a_required_field_is_INVALID_ARGUMENT_whatever_volume_it_names_and_changes_nothing(
        string rpc
    )
    {
        var (capability, calls) = Node[rpc];
        if (
            capability is { } cap
            && !(await Plugin.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest())).Capabilities.Any(c =>
                c.Rpc?.Type == cap
            )
        )
        {
            return;
        }
        // A real volume published elsewhere on the node, so "nothing changed" covers a live bind too.
        var volume = await Volumes.CreateAsync("node-req-bystander");
        var published = Plugin.NewTargetPath();
        Volumes.TrackPublish(volume.VolumeId, published);
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, published));
        // The target's parent exists (the CO's part); the target itself must never be made.
        var target = Plugin.NewTargetPath();
        foreach (var (what, call) in calls(UnknownVolumeIds, target, Plugin.Node))
        {
            var failed = await Record.ExceptionAsync(() => FailsAndTouchesNothing(StatusCode.InvalidArgument, call));
            Assert.True(failed is null, $"{rpc} {what}: {failed?.Message}");
        }
        Assert.False(Directory.Exists(target), $"{target} was made by a refused request");
    }
}
