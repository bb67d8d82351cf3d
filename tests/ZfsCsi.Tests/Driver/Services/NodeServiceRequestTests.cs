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
/// NodeService checks every field of a request before it looks at the volume id (NOT_FOUND) or
/// takes a lock (ABORTED): a request with a missing or malformed field is INVALID_ARGUMENT
/// whatever the id names. Nothing here touches the filesystem: the checks end every call first.
/// </summary>
public sealed class NodeServiceRequestTests
{
    private const string Kubelet = "/var/lib/kubelet";
    private const string Target = Kubelet + "/pods/u1/volumes/kubernetes.io~csi/pv/mount";
    private const string NoVolume = "elsewhere/pvc-never-made";
    private readonly OperationLocks _locks = new();
    private readonly FakeCommandRunner _runner = new();
    private readonly FakeKernel _kernel = new();
    private readonly NodeService _service;

    public NodeServiceRequestTests()
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
        var volumes = new NodeVolumes(
            options.Node,
            options.Volumes,
            new DataRoot(options.Node, _runner, _kernel, logger),
            _kernel,
            logger
        );
        _service = new NodeService(volumes, _locks, options);
    }

    [Theory]
    [InlineData(NoVolume)]
    [InlineData("data/k8s/pvc-never-made")]
    public async Task Stats_without_a_volume_path_is_invalid_argument_even_for_an_id_that_names_no_volume(string id)
    {
        // csi-sanity: "NodeGetVolumeStats should fail when no volume path is provided" (a made-up id).
        var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
            _service.NodeGetVolumeStats(new NodeGetVolumeStatsRequest { VolumeId = id }, new TestServerCallContext())
        );

        Assert.Contains("volume_path", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<NodePublishVolumeRequest>> BadPublishes() =>
        new()
        {
            { "no target path", r => r.TargetPath = "" },
            { "no capability", r => r.VolumeCapability = null },
            {
                "block access",
                r =>
                    r.VolumeCapability = new VolumeCapability
                    {
                        Block = new(),
                        AccessMode = new() { Mode = Mode.SingleNodeWriter },
                    }
            },
            { "no access mode", r => r.VolumeCapability.AccessMode = null },
            { "a mount flag of no use on a bind", r => r.VolumeCapability.Mount.MountFlags.Add("sync") },
            { "a relative target", r => r.TargetPath = "pods/u1/volumes/mount" },
            { "a target outside the kubelet directory", r => r.TargetPath = "/etc/mount" },
            { "a target with '..'", r => r.TargetPath = Kubelet + "/pods/../../etc" },
            {
                "a target longer than PATH_MAX",
                r => r.TargetPath = Kubelet + "/" + new string('t', TargetPath.MaxLength)
            },
        };

    [Theory]
    [MemberData(nameof(BadPublishes))]
    public async Task A_bad_publish_is_invalid_argument_for_an_id_that_names_no_volume_even_while_its_target_is_busy(
        string why,
        Action<NodePublishVolumeRequest> spoil
    )
    {
        var request = Publish(NoVolume, Target);
        spoil(request);
        using var busy = _locks.TryAcquire(NodeService.TargetKey(Target));

        var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
            _service.NodePublishVolume(request, new TestServerCallContext())
        );

        Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        Assert.Empty(_runner.Calls);
        Assert.Empty(_kernel.Calls);
    }

    [Theory]
    [InlineData("", Target)]
    [InlineData(NoVolume, "")]
    [InlineData(NoVolume, "relative/mount")]
    public async Task A_bad_unpublish_is_invalid_argument_even_while_its_target_is_busy(string id, string target)
    {
        using var busy = _locks.TryAcquire(NodeService.TargetKey(Target));

        await Assert.ThrowsAsync<InvalidInputException>(() =>
            _service.NodeUnpublishVolume(
                new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target },
                new TestServerCallContext()
            )
        );
    }

    [Fact]
    public async Task Health_without_a_volume_id_is_invalid_argument_whatever_the_publish_path()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            _service.NodeGetVolumeHealth(
                new NodeGetVolumeHealthRequest { VolumePublishPath = Target },
                new TestServerCallContext()
            )
        );
    }

    [Theory]
    [InlineData(Mode.SingleNodeWriter)]
    [InlineData(Mode.SingleNodeMultiWriter)]
    [InlineData(Mode.MultiNodeMultiWriter)]
    [InlineData(Mode.MultiNodeSingleWriter)]
    public async Task A_writer_publish_of_a_view_is_failed_precondition_and_touches_nothing(Mode mode)
    {
        var request = Publish("data/k8s/pvc-view", Target);
        request.VolumeCapability.AccessMode.Mode = mode;
        request.VolumeContext.Add(Core.Volumes.Views.ContextKey, "true");

        var e = await Assert.ThrowsAsync<FailedPreconditionException>(() =>
            _service.NodePublishVolume(request, new TestServerCallContext())
        );

        Assert.Contains("read-only view", e.Message, StringComparison.Ordinal);
        Assert.Empty(_runner.Calls);
        Assert.Empty(_kernel.Calls);
    }

    [Fact]
    public async Task A_reader_only_publish_of_a_view_with_readonly_false_passes_the_view_check()
    {
        // It goes on to the id (NOT_FOUND: not ours), so the view check let it through.
        var request = Publish(NoVolume, Target);
        request.VolumeCapability.AccessMode.Mode = Mode.MultiNodeReaderOnly;
        request.Readonly = false;
        request.VolumeContext.Add(Core.Volumes.Views.ContextKey, "true");

        await Assert.ThrowsAsync<NotFoundException>(() =>
            _service.NodePublishVolume(request, new TestServerCallContext())
        );
    }

    private static NodePublishVolumeRequest Publish(string id, string target) =>
        new()
        {
            VolumeId = id,
            TargetPath = target,
            VolumeCapability = new VolumeCapability
            {
                Mount = new VolumeCapability.Types.MountVolume(),
                AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeSingleWriter },
            },
        };
}
