using Csi.V1;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Options;
using ZfsCsi.Driver.Services;
using ZfsCsi.Tests.Fakes;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Tests.Driver.Services;

/// <summary>
/// NodeService's locks: keyed on the canonical target, so spellings of one target collide and one
/// target cannot take two volumes at once, while one volume publishes to many targets. A held lock answers ABORTED
/// (OperationPendingException) before anything is looked at; the cluster tests race real publishes.
/// </summary>
public sealed class NodeServiceLockTests
{
    private const string Kubelet = "/var/lib/kubelet";
    private const string Target = Kubelet + "/pods/u1/volumes/kubernetes.io~csi/pv/mount";
    private readonly OperationLocks _locks = new();
    private readonly NodeService _service;

    public NodeServiceLockTests()
    {
        var options = DriverOptions.Parse([
            "--mode",
            "node",
            "--nodeid",
            "n",
            "--kubelet-dir",
            Kubelet,
            "--parent-dataset",
            "data/k8s",
        ]);
        var logger = Serilog.Core.Logger.None;
        // Nothing mounted: what a publish that gets past the locks meets is the model's, never this machine's /data.
        var kernel = new FakeKernel();
        var volumes = new NodeVolumes(
            options.Node,
            options.Volumes,
            new DataRoot(options.Node, new FakeCommandRunner(), kernel, logger),
            kernel,
            logger
        );
        _service = new NodeService(volumes, _locks, options);
    }

    [Theory]
    [InlineData(Target)]
    [InlineData(Target + "/")]
    public async Task A_publish_to_a_target_being_worked_on_is_aborted_however_the_target_is_spelled(string spelling)
    {
        using var held = _locks.Acquire(NodeService.TargetKey(Target));
        await Assert.ThrowsAsync<OperationPendingException>(() =>
            _service.NodePublishVolume(Publish("data/k8s/pvc-b", spelling), new TestServerCallContext())
        );
        await Assert.ThrowsAsync<OperationPendingException>(() =>
            _service.NodeUnpublishVolume(
                new NodeUnpublishVolumeRequest { VolumeId = "data/k8s/pvc-b", TargetPath = spelling },
                new TestServerCallContext()
            )
        );
    }

    [Fact]
    public async Task Publishes_of_one_volume_to_two_targets_do_not_abort_each_other()
    {
        // Kubelet publishes an RWX volume once per pod; only the target is locked.
        using var held = _locks.Acquire(NodeService.TargetKey(Target));

        var e = await Record.ExceptionAsync(() =>
            _service.NodePublishVolume(
                Publish("data/k8s/pvc-b", Kubelet + "/pods/u2/volumes/kubernetes.io~csi/pv/mount"),
                new TestServerCallContext()
            )
        );

        Assert.IsNotType<OperationPendingException>(e);
    }

    [Fact]
    public async Task A_single_node_single_writer_publish_is_aborted_while_another_publish_of_its_volume_runs()
    {
        // Two SINGLE_NODE_SINGLE_WRITER publishes to different targets at once would each find no
        // other target yet: the volume is locked too, and the second one is told to retry.
        using var held = _locks.Acquire(NodeService.VolumeKey("data/k8s/pvc-b"));

        await Assert.ThrowsAsync<OperationPendingException>(() =>
            _service.NodePublishVolume(
                Publish(
                    "data/k8s/pvc-b",
                    Kubelet + "/pods/u2/volumes/kubernetes.io~csi/pv/mount",
                    Mode.SingleNodeSingleWriter
                ),
                new TestServerCallContext()
            )
        );
        // Nothing else was taken: the target is free again.
        using var target = _locks.Acquire(
            NodeService.TargetKey(Kubelet + "/pods/u2/volumes/kubernetes.io~csi/pv/mount")
        );
    }

    [Theory]
    [InlineData(Mode.SingleNodeMultiWriter)]
    [InlineData(Mode.SingleNodeWriter)]
    [InlineData(Mode.MultiNodeMultiWriter)]
    public async Task Publishes_of_the_shared_modes_do_not_lock_the_volume(Mode mode)
    {
        using var held = _locks.Acquire(NodeService.VolumeKey("data/k8s/pvc-b"));

        var e = await Record.ExceptionAsync(() =>
            _service.NodePublishVolume(
                Publish("data/k8s/pvc-b", Kubelet + "/pods/u3/volumes/kubernetes.io~csi/pv/mount", mode),
                new TestServerCallContext()
            )
        );

        Assert.IsNotType<OperationPendingException>(e);
    }

    [Fact]
    public async Task The_node_advertises_SINGLE_NODE_MULTI_WRITER_with_stats_and_health()
    {
        var response = await _service.NodeGetCapabilities(
            new NodeGetCapabilitiesRequest(),
            new TestServerCallContext()
        );
        var types = response.Capabilities.Select(c => c.Rpc.Type).ToList();

        Assert.Equal(
            [
                NodeServiceCapability.Types.RPC.Types.Type.GetVolumeStats,
                NodeServiceCapability.Types.RPC.Types.Type.GetVolumeHealth,
                NodeServiceCapability.Types.RPC.Types.Type.SingleNodeMultiWriter,
            ],
            types
        );
    }

    private static NodePublishVolumeRequest Publish(string id, string target, Mode mode = Mode.MultiNodeMultiWriter) =>
        new()
        {
            VolumeId = id,
            TargetPath = target,
            VolumeCapability = new VolumeCapability
            {
                Mount = new VolumeCapability.Types.MountVolume(),
                AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
            },
        };
}
