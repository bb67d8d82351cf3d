using Csi.V1;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Hosting;
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
        var options = DriverOptions.Parse(["--mode", "node", "--nodeid", "n", "--kubelet-dir", Kubelet, "--parent-dataset", "data/k8s"]);
        var logger = Serilog.Core.Logger.None;
        var volumes = new NodeVolumes(options.Node, options.Volumes, new DataRoot(options.Node, new FakeCommandRunner(), logger), logger);
        _service = new NodeService(volumes, _locks, options);
    }

    [Theory]
    [InlineData(Target)]
    [InlineData(Target + "/")]
    public async Task A_publish_to_a_target_being_worked_on_is_aborted_however_the_target_is_spelled(string spelling)
    {
        using var held = _locks.Acquire(NodeService.TargetKey(Target));
        await Assert.ThrowsAsync<OperationPendingException>(() => _service.NodePublishVolume(Publish("data/k8s/pvc-b", spelling), new TestServerCallContext()));
        await Assert.ThrowsAsync<OperationPendingException>(() => _service.NodeUnpublishVolume(new NodeUnpublishVolumeRequest { VolumeId = "data/k8s/pvc-b", TargetPath = spelling }, new TestServerCallContext()));
    }

    [Fact]
    public async Task Publishes_of_one_volume_to_two_targets_do_not_abort_each_other()
    {
        // Kubelet publishes an RWX volume once per pod; only the target is locked.
        using var held = _locks.Acquire(NodeService.TargetKey(Target));

        var e = await Record.ExceptionAsync(() => _service.NodePublishVolume(Publish("data/k8s/pvc-b", Kubelet + "/pods/u2/volumes/kubernetes.io~csi/pv/mount"), new TestServerCallContext()));

        Assert.IsNotType<OperationPendingException>(e);
    }

    private static NodePublishVolumeRequest Publish(string id, string target) => new()
    {
        VolumeId = id,
        TargetPath = target,
        VolumeCapability = new VolumeCapability
        {
            Mount = new VolumeCapability.Types.MountVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.MultiNodeMultiWriter },
        },
    };
}
