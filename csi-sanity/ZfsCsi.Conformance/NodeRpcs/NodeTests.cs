using System.Text;
using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;
using NodeRpc = Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;
using PluginService = Csi.V1.PluginCapability.Types.Service.Types.Type;

namespace ZfsCsi.Conformance.NodeRpcs;

/// <summary>
/// CSI spec, "Node Service RPC", against the driver's node plugin process (--mode node) while the
/// controller process makes the volumes, as in a cluster. Targets live under the plugin's kubelet
/// directory; the pool is seen through its mountpoint as a node sees it through /data.
/// </summary>
public sealed class NodeTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    /// <summary>The node plugin; a driver build without one fails every node test (its usage names no --data-root).</summary>
    private NodePlugin Plugin =>
        Fx.NodePlugin
        ?? throw new InvalidOperationException(
            "this driver build has no node plugin (no --data-root flag): rebuild the driver from a tree with the node service"
        );

    private async Task<HashSet<NodeRpc>> NodeCapabilitiesAsync() =>
        (await Plugin.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest()))
            .Capabilities.Where(c => c.Rpc is not null)
            .Select(c => c.Rpc.Type)
            .ToHashSet();

    private NodePublishVolumeRequest Publish(
        string volumeId,
        string target,
        bool readOnly = false,
        Mode mode = Mode.SingleNodeWriter
    ) =>
        new()
        {
            VolumeId = volumeId,
            TargetPath = target,
            VolumeCapability = Requests.Mount(mode),
            Readonly = readOnly,
        };

    private async Task<string> PublishedAsync(Volume volume, bool readOnly = false)
    {
        var target = Plugin.NewTargetPath();
        Volumes.TrackPublish(volume.VolumeId, target);
        // As kubelet does: the volume_context CreateVolume returned goes with every publish.
        var request = Publish(volume.VolumeId, target, readOnly);
        request.VolumeContext.Add(volume.VolumeContext);
        await Plugin.Node.NodePublishVolumeAsync(request);
        return target;
    }

    [Fact]
    [Trait("spec", "NodeGetInfo")]
    public async Task NodeGetInfo_names_the_node_within_256_bytes_and_the_same_every_time()
    {
        // NodeGetInfoResponse.node_id: REQUIRED; "The size of this field SHALL NOT exceed 256 bytes."
        var first = await Plugin.Node.NodeGetInfoAsync(new NodeGetInfoRequest());
        Assert.Equal(ConformanceFixture.NodeId, first.NodeId);
        Assert.True(Encoding.UTF8.GetByteCount(first.NodeId) <= 256);
        // max_volumes_per_node: "If value is not set or zero CO SHALL decide how many volumes ..."; never negative.
        Assert.True(first.MaxVolumesPerNode >= 0);
        var identity = await Plugin.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());
        if (!identity.Capabilities.Any(c => c.Service?.Type == PluginService.VolumeAccessibilityConstraints))
        {
            Assert.Null(first.AccessibleTopology);
        }
        Assert.Equal(first, await Plugin.Node.NodeGetInfoAsync(new NodeGetInfoRequest()));
    }

    [Fact]
    [Trait("spec", "NodeGetCapabilities")]
    public async Task NodeGetCapabilities_names_no_unknown_type_and_no_duplicate_and_is_stable()
    {
        var first = await Plugin.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest());
        Assert.Equal(first, await Plugin.Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest()));
        var types = first.Capabilities.Select(c => c.Rpc?.Type ?? NodeRpc.Unknown).ToList();
        Assert.DoesNotContain(NodeRpc.Unknown, types);
        Assert.Equal(types.Count, types.Distinct().Count());
        Assert.All(types, t => Assert.True(Enum.IsDefined(t), $"node capability {(int)t} is not defined by the spec"));
    }

    [Fact]
    [Trait("spec", "GetPluginCapabilities")]
    public async Task A_node_only_plugin_is_the_same_driver_and_advertises_no_controller_service()
    {
        // Architecture, Figure 4: a Node-only Plugin's "GetPluginCapabilities RPC does not report
        // the CONTROLLER_SERVICE capability"; and it answers Controller RPCs UNIMPLEMENTED.
        var info = await Plugin.Identity.GetPluginInfoAsync(new GetPluginInfoRequest());
        Assert.Equal((await Fx.Identity.GetPluginInfoAsync(new GetPluginInfoRequest())).Name, info.Name);
        var caps = await Plugin.Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest());
        Assert.DoesNotContain(caps.Capabilities, c => c.Service?.Type == PluginService.ControllerService);
        var code = await Rpc.CodeOf(async () =>
            await Plugin.Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest())
        );
        Assert.Equal(StatusCode.Unimplemented, code);
        var probe = await Plugin.Identity.ProbeAsync(new ProbeRequest());
        Assert.True(
            probe.Ready is null || probe.Ready == true,
            "the node plugin is not ready although its data root is mounted"
        );
    }

    public static TheoryData<string> BoundNodeRpcs =>
        [
            "NodeStageVolume",
            "NodeUnstageVolume",
            "NodeGetVolumeStats",
            "NodeExpandVolume",
            "NodeGetVolumeHealth",
            "NodeGetStorageHealth",
        ];

    [Theory]
    [MemberData(nameof(BoundNodeRpcs))]
    [Trait("spec", "NodeGetCapabilities")]
    public async Task A_node_rpc_is_unimplemented_exactly_when_its_capability_is_not_advertised(string rpc)
    {
        var volume = await Volumes.CreateAsync("node-cap");
        var staging = Path.Combine(Plugin.KubeletDirectory, "staging-" + Guid.NewGuid().ToString("N")[..8]);
        var node = Plugin.Node;
        (NodeRpc capability, Func<Task> call) = rpc switch
        {
            "NodeStageVolume" => (
                NodeRpc.StageUnstageVolume,
                (Func<Task>)(
                    async () =>
                        await node.NodeStageVolumeAsync(
                            new NodeStageVolumeRequest
                            {
                                VolumeId = volume.VolumeId,
                                StagingTargetPath = staging,
                                VolumeCapability = Requests.Mount(),
                            }
                        )
                )
            ),
            "NodeUnstageVolume" => (NodeRpc.StageUnstageVolume, async () =>
                await node.NodeUnstageVolumeAsync(
                    new NodeUnstageVolumeRequest { VolumeId = volume.VolumeId, StagingTargetPath = staging }
                )
            ),
            "NodeGetVolumeStats" => (NodeRpc.GetVolumeStats, async () =>
                await node.NodeGetVolumeStatsAsync(
                    new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = staging }
                )
            ),
            "NodeExpandVolume" => (NodeRpc.ExpandVolume, async () => await node.NodeExpandVolumeAsync(
                    new NodeExpandVolumeRequest
                    {
                        VolumeId = volume.VolumeId,
                        VolumePath = staging,
                        CapacityRange = new CapacityRange { RequiredBytes = Requests.VolumeSize },
                    }
                )),
            "NodeGetVolumeHealth" => (NodeRpc.GetVolumeHealth, async () =>
                await node.NodeGetVolumeHealthAsync(new NodeGetVolumeHealthRequest { VolumeId = volume.VolumeId })
            ),
            "NodeGetStorageHealth" => (NodeRpc.GetStorageHealth, async () =>
                await node.NodeGetStorageHealthAsync(new NodeGetStorageHealthRequest())
            ),
            _ => throw new ArgumentOutOfRangeException(nameof(rpc)),
        };
        var advertised = (await NodeCapabilitiesAsync()).Contains(capability);
        var code = await Rpc.CodeOf(call);
        if (advertised)
        {
            Assert.True(
                code != StatusCode.Unimplemented,
                $"{rpc} answered UNIMPLEMENTED although {capability} is advertised"
            );
        }
        else
        {
            Assert.True(
                code == StatusCode.Unimplemented,
                $"{rpc} answered {code} although {capability} is not advertised: expected UNIMPLEMENTED"
            );
        }
    }

    [Theory]
    [InlineData("NodeStageVolume")]
    [InlineData("NodeUnstageVolume")]
    [InlineData("NodeExpandVolume")]
    [InlineData("NodeGetStorageHealth")]
    [Trait("spec", "Error Scheme")]
    public async Task An_unimplemented_node_rpc_says_so_in_its_status_message(string rpc)
    {
        // Error Scheme: "The status message MUST contain a human readable description of error,
        // if the status code is not OK." Checked for the node RPCs whose capability is not advertised.
        var staging = Path.Combine(Plugin.KubeletDirectory, "staging");
        var volumeId = await Fx.SharedVolumeIdAsync();
        var node = Plugin.Node;
        Func<Task> call = rpc switch
        {
            "NodeStageVolume" => async () =>
                await node.NodeStageVolumeAsync(
                    new NodeStageVolumeRequest
                    {
                        VolumeId = volumeId,
                        StagingTargetPath = staging,
                        VolumeCapability = Requests.Mount(),
                    }
                ),
            "NodeUnstageVolume" => async () =>
                await node.NodeUnstageVolumeAsync(
                    new NodeUnstageVolumeRequest { VolumeId = volumeId, StagingTargetPath = staging }
                ),
            "NodeExpandVolume" => async () =>
                await node.NodeExpandVolumeAsync(
                    new NodeExpandVolumeRequest { VolumeId = volumeId, VolumePath = staging }
                ),
            _ => async () => await node.NodeGetStorageHealthAsync(new NodeGetStorageHealthRequest()),
        };
        var e = await Assert.ThrowsAsync<RpcException>(call);
        if (e.StatusCode == StatusCode.Unimplemented)
        {
            Assert.False(
                string.IsNullOrWhiteSpace(e.Status.Detail),
                $"{rpc} answered UNIMPLEMENTED with an empty message"
            );
        }
    }

    [Fact]
    [Trait("spec", "NodePublishVolume")]
    public async Task NodePublishVolume_without_a_volume_id_target_path_or_capability_is_INVALID_ARGUMENT()
    {
        // NodePublishVolumeRequest: volume_id, target_path, volume_capability "This field is REQUIRED."
        var volume = await Volumes.CreateAsync("pub-req");
        var target = Plugin.NewTargetPath();
        await Rpc.FailsWith(StatusCode.InvalidArgument, Plugin.Node.NodePublishVolumeAsync(Publish("", target)));
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, ""))
        );
        var noCapability = Publish(volume.VolumeId, target);
        noCapability.VolumeCapability = null;
        await Rpc.FailsWith(StatusCode.InvalidArgument, Plugin.Node.NodePublishVolumeAsync(noCapability));
        Assert.False(Directory.Exists(target), "a refused publish left its target behind");
    }

    [Fact]
    [Trait("spec", "NodePublishVolume Errors")]
    public async Task NodePublishVolume_of_an_unknown_volume_is_NOT_FOUND()
    {
        // NodePublishVolume Errors: "Volume does not exist | 5 NOT_FOUND".
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Plugin.Node.NodePublishVolumeAsync(Publish($"{Fx.Pool.Parent}/csan-never-made", Plugin.NewTargetPath()))
        );
    }

    [Fact]
    [Trait("spec", "NodePublishVolume")]
    public async Task A_published_volume_shows_its_data_at_the_target_and_publishing_twice_is_OK()
    {
        var volume = await Volumes.CreateAsync("pub");
        await Storage.WriteAsync(volume.VolumeId, "from-storage", "hello");
        var target = await PublishedAsync(volume);
        Assert.Equal("hello", await File.ReadAllTextAsync(Path.Combine(target, "from-storage")));
        await File.WriteAllTextAsync(Path.Combine(target, "from-pod"), "written by a pod");
        Assert.Equal("written by a pod", await Storage.ReadAsync(volume.VolumeId, "from-pod"));

        // NodePublishVolume: "This operation MUST be idempotent. If this RPC failed, or the CO does
        // not know if it failed or not, it MAY choose to call NodePublishVolume again".
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, target));
        Assert.Single(NodePlugin.MountsUnder(target));
    }

    [Fact]
    [Trait("spec", "NodePublishVolume Errors")]
    public async Task Publishing_again_at_the_same_target_with_another_readonly_flag_is_ALREADY_EXISTS()
    {
        // NodePublishVolume Errors: "Volume published but is incompatible | 6 ALREADY_EXISTS |
        // ... already been published at the specified target_path but is incompatible with the
        // specified volume_capability or readonly flag."
        var volume = await Volumes.CreateAsync("pub-clash");
        var target = await PublishedAsync(volume);
        await Rpc.FailsWith(
            StatusCode.AlreadyExists,
            Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, target, readOnly: true))
        );
    }

    [Fact]
    [Trait("spec", "NodePublishVolume")]
    public async Task A_readonly_publish_refuses_writes()
    {
        // NodePublishVolumeRequest.readonly: "Indicates SP MUST publish the volume in readonly mode."
        var volume = await Volumes.CreateAsync("pub-ro");
        await Storage.WriteAsync(volume.VolumeId, "f", "kept");
        var target = await PublishedAsync(volume, readOnly: true);
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(target, "f")));
        var e = await Assert.ThrowsAnyAsync<IOException>(() => File.WriteAllTextAsync(Path.Combine(target, "g"), "x"));
        Assert.Contains("Read-only", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    [Trait("spec", "NodePublishVolume")]
    public async Task A_multi_node_volume_can_be_published_at_two_targets()
    {
        var volume = await Volumes.CreateAsync("pub-two");
        var one = Plugin.NewTargetPath();
        var two = Plugin.NewTargetPath();
        Volumes.TrackPublish(volume.VolumeId, one);
        Volumes.TrackPublish(volume.VolumeId, two);
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, one, mode: Mode.MultiNodeMultiWriter));
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, two, mode: Mode.MultiNodeMultiWriter));
        await File.WriteAllTextAsync(Path.Combine(one, "shared"), "seen by both");
        Assert.Equal("seen by both", await File.ReadAllTextAsync(Path.Combine(two, "shared")));
    }

    /// <summary>A volume created for <paramref name="mode"/>, as the provisioner asks for a PVC of that access mode.</summary>
    private async Task<Volume> CreateForAsync(string what, Mode mode)
    {
        var request = Requests.Create(Requests.UniqueName(what));
        request.VolumeCapabilities[0] = Requests.Mount(mode);
        return await Volumes.CreateAsync(request);
    }

    [Fact]
    [Trait("spec", "NodePublishVolume SINGLE_NODE_SINGLE_WRITER")]
    public async Task A_SINGLE_NODE_SINGLE_WRITER_volume_is_FAILED_PRECONDITION_at_a_second_target_and_OK_again_at_its_own()
    {
        // NodePublishVolume, the table for plugins with SINGLE_NODE_MULTI_WRITER: SINGLE_NODE_SINGLE_WRITER
        // T1=T2, P1=P2: "OK (idempotent)"; T1!=T2: FAILED_PRECONDITION. csi-sanity (v5.5 and later):
        // "should fail when volume with single node single writer access mode is already mounted at a
        // different target path". Kubernetes' ReadWriteOncePod.
        if (!(await NodeCapabilitiesAsync()).Contains(NodeRpc.SingleNodeMultiWriter))
        {
            return;
        }
        var volume = await CreateForAsync("snsw", Mode.SingleNodeSingleWriter);
        var first = Plugin.NewTargetPath();
        var second = Plugin.NewTargetPath();
        Volumes.TrackPublish(volume.VolumeId, first);
        Volumes.TrackPublish(volume.VolumeId, second);
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, first, mode: Mode.SingleNodeSingleWriter));
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, first, mode: Mode.SingleNodeSingleWriter));
        Assert.Single(NodePlugin.MountsUnder(first));

        var e = await FailsAndTouchesNothing(StatusCode.FailedPrecondition, () =>
            Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, second, mode: Mode.SingleNodeSingleWriter))
        );
        Assert.Contains(first, e.Status.Detail, StringComparison.Ordinal);
        Assert.False(Directory.Exists(second), "a refused publish made its target");
        // The same target with other arguments is still ALREADY_EXISTS (T1=T2, P1!=P2).
        await Rpc.FailsWith(
            StatusCode.AlreadyExists,
            Plugin.Node.NodePublishVolumeAsync(
                Publish(volume.VolumeId, first, readOnly: true, mode: Mode.SingleNodeSingleWriter)
            )
        );

        // Once the pod at the first target is gone, the next one may have the volume.
        await Plugin.Node.NodeUnpublishVolumeAsync(
            new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = first }
        );
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, second, mode: Mode.SingleNodeSingleWriter));
        Assert.Single(NodePlugin.MountsUnder(second));
    }

    [Fact]
    [Trait("spec", "NodePublishVolume SINGLE_NODE_SINGLE_WRITER")]
    public async Task A_restarted_node_plugin_still_refuses_a_second_target_of_a_SINGLE_NODE_SINGLE_WRITER_volume()
    {
        // What is published where must come from the node, not from the plugin's memory: a plugin
        // killed and started again (a crash, an upgrade of the DaemonSet) still finds the first target.
        if (!(await NodeCapabilitiesAsync()).Contains(NodeRpc.SingleNodeMultiWriter))
        {
            return;
        }
        if (StorageHost.Current is VmStorageHost)
        {
            // The OpenZFS run's plugin owns an SSHFS mount whose fate on SIGKILL is another test's
            // subject (NodeFaultTests); this one restarts the zfs-fuse run's plugin only.
            return;
        }
        var volume = await CreateForAsync("snsw-restart", Mode.SingleNodeSingleWriter);
        var first = Plugin.NewTargetPath();
        var second = Plugin.NewTargetPath();
        Volumes.TrackPublish(volume.VolumeId, first);
        Volumes.TrackPublish(volume.VolumeId, second);
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, first, mode: Mode.SingleNodeSingleWriter));

        await Plugin.RestartAsync();

        await FailsAndTouchesNothing(StatusCode.FailedPrecondition, () =>
            Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, second, mode: Mode.SingleNodeSingleWriter))
        );
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, first, mode: Mode.SingleNodeSingleWriter));
        Assert.Single(NodePlugin.MountsUnder(first));
    }

    [Fact]
    [Trait("spec", "NodePublishVolume SINGLE_NODE_MULTI_WRITER")]
    public async Task A_SINGLE_NODE_MULTI_WRITER_volume_is_published_at_two_targets_on_one_node_and_both_see_one_volume()
    {
        // The table for plugins with SINGLE_NODE_MULTI_WRITER: SINGLE_NODE_MULTI_WRITER, T1!=T2: OK
        // (as MULTI_NODE_..., A_multi_node_volume_can_be_published_at_two_targets). Kubernetes'
        // ReadWriteOnce with two pods on one node.
        if (!(await NodeCapabilitiesAsync()).Contains(NodeRpc.SingleNodeMultiWriter))
        {
            return;
        }
        const Mode mode = Mode.SingleNodeMultiWriter;
        var volume = await CreateForAsync("multi-writer", mode);
        var one = Plugin.NewTargetPath();
        var two = Plugin.NewTargetPath();
        Volumes.TrackPublish(volume.VolumeId, one);
        Volumes.TrackPublish(volume.VolumeId, two);
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, one, mode: mode));
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, two, mode: mode));
        await Plugin.Node.NodePublishVolumeAsync(Publish(volume.VolumeId, two, mode: mode));
        await File.WriteAllTextAsync(Path.Combine(one, "shared"), "seen by both");
        Assert.Equal("seen by both", await File.ReadAllTextAsync(Path.Combine(two, "shared")));
    }

    [Fact]
    [Trait("spec", "NodeUnpublishVolume")]
    public async Task NodeUnpublishVolume_without_a_volume_id_or_target_path_is_INVALID_ARGUMENT()
    {
        var volume = await Volumes.CreateAsync("unpub-req");
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Plugin.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { TargetPath = Plugin.NewTargetPath() })
        );
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Plugin.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId })
        );
    }

    [Fact]
    [Trait("spec", "NodeUnpublishVolume")]
    public async Task Unpublishing_removes_the_target_and_twice_is_OK()
    {
        var volume = await Volumes.CreateAsync("unpub");
        var target = await PublishedAsync(volume);
        var request = new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = target };
        await Plugin.Node.NodeUnpublishVolumeAsync(request);
        // NodeUnpublishVolume: "The SP MUST delete the file or directory it created at this path."
        Assert.Empty(NodePlugin.MountsUnder(target));
        Assert.False(Directory.Exists(target), $"{target} is still there after NodeUnpublishVolume");
        // "This operation MUST be idempotent."
        await Plugin.Node.NodeUnpublishVolumeAsync(request);
        // A target never published is nothing to undo.
        await Plugin.Node.NodeUnpublishVolumeAsync(
            new NodeUnpublishVolumeRequest { VolumeId = volume.VolumeId, TargetPath = Plugin.NewTargetPath() }
        );
        // The volume's data is untouched by the unpublish.
        Assert.NotNull(
            await Fx.Controller.ValidateVolumeCapabilitiesAsync(
                new ValidateVolumeCapabilitiesRequest
                {
                    VolumeId = volume.VolumeId,
                    VolumeCapabilities = { Requests.Mount() },
                }
            )
        );
    }

    [Fact]
    [Trait("spec", "NodeGetVolumeStats")]
    public async Task NodeGetVolumeStats_follows_GET_VOLUME_STATS()
    {
        var volume = await Volumes.CreateAsync("stats");
        var target = await PublishedAsync(volume);
        if (!(await NodeCapabilitiesAsync()).Contains(NodeRpc.GetVolumeStats))
        {
            await Rpc.FailsWith(
                StatusCode.Unimplemented,
                Plugin.Node.NodeGetVolumeStatsAsync(
                    new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = target }
                )
            );
            return;
        }
        // volume_id and volume_path: "This field is REQUIRED."
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Plugin.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumePath = target })
        );
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Plugin.Node.NodeGetVolumeStatsAsync(new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId })
        );
        // NodeGetVolumeStats Errors: "Volume does not exist | 5 NOT_FOUND | ... does not exist on
        // specified volume_path."
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Plugin.Node.NodeGetVolumeStatsAsync(
                new NodeGetVolumeStatsRequest { VolumeId = $"{Fx.Pool.Parent}/csan-never-made", VolumePath = target }
            )
        );
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Plugin.Node.NodeGetVolumeStatsAsync(
                new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = Plugin.NewTargetPath() }
            )
        );

        var stats = await Plugin.Node.NodeGetVolumeStatsAsync(
            new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = target }
        );
        var bytes = Assert.Single(stats.Usage, u => u.Unit == VolumeUsage.Types.Unit.Bytes);
        // The volume's quota is what its pod sees as the filesystem's size.
        Assert.InRange(bytes.Total, volume.CapacityBytes / 2, volume.CapacityBytes);
        Assert.InRange(bytes.Available, 0, bytes.Total);
        Assert.InRange(bytes.Used, 0, bytes.Total);
    }

    [Fact]
    [Trait("spec", "NodeGetVolumeStats Errors")]
    public async Task NodeGetVolumeStats_of_a_real_volume_at_a_path_where_it_is_not_published_is_NOT_FOUND_even_a_relative_one()
    {
        // NodeGetVolumeStats Errors: "Volume does not exist | 5 NOT_FOUND | Indicated that the
        // volume_id or volume_path specified does not exist on specified volume_path." csi-sanity's
        // "should fail when volume does not exist on the specified path" sends volume_path
        // "some/path" for a real volume and expects NOT_FOUND; an empty volume_path is a missing
        // REQUIRED field (INVALID_ARGUMENT).
        var volume = await Volumes.CreateAsync("stats-path");
        await PublishedAsync(volume);
        if (!(await NodeCapabilitiesAsync()).Contains(NodeRpc.GetVolumeStats))
        {
            return;
        }
        foreach (
            var path in new[] { "some/path", "/some/path", Path.Combine(Plugin.KubeletDirectory, "..", "outside") }
        )
        {
            await Rpc.FailsWith(
                StatusCode.NotFound,
                Plugin.Node.NodeGetVolumeStatsAsync(
                    new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = path }
                )
            );
        }
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Plugin.Node.NodeGetVolumeStatsAsync(
                new NodeGetVolumeStatsRequest { VolumeId = volume.VolumeId, VolumePath = "" }
            )
        );
    }

    [Fact]
    [Trait("spec", "NodeGetVolumeHealth")]
    public async Task NodeGetVolumeHealth_follows_GET_VOLUME_HEALTH()
    {
        var volume = await Volumes.CreateAsync("node-health");
        var target = await PublishedAsync(volume);
        var request = new NodeGetVolumeHealthRequest { VolumeId = volume.VolumeId, VolumePublishPath = target };
        if (!(await NodeCapabilitiesAsync()).Contains(NodeRpc.GetVolumeHealth))
        {
            await Rpc.FailsWith(StatusCode.Unimplemented, Plugin.Node.NodeGetVolumeHealthAsync(request));
            return;
        }
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Plugin.Node.NodeGetVolumeHealthAsync(new NodeGetVolumeHealthRequest())
        );
        var health = await Plugin.Node.NodeGetVolumeHealthAsync(request);
        Assert.Equal(volume.VolumeId, health.VolumeHealth.VolumeId);
        // VolumeHealth.health_statuses: "An empty list means no adverse health condition is known".
        Assert.Empty(health.VolumeHealth.HealthStatuses);
    }
}
