using Csi.V1;
using Serilog;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;
using ZfsCsi.Driver.Services;
using ZfsCsi.Tests.Fakes;
using static ZfsCsi.Tests.Fakes.ZfsScript;
using DomainRange = ZfsCsi.Core.Volumes.CapacityRange;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;
using RpcType = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace ZfsCsi.Tests.Driver.Services;

/// <summary>The controller's validation and locking over the fake runner: bad input touches nothing.</summary>
public sealed class ControllerServiceTests : IDisposable
{
    private const string Name = "pvc-5f0c1a9e-3b7d-4c2a-9e61-0d8f2b6a7c11";
    private const string Dataset = "data/k8s/" + Name;
    private readonly FakeCommandRunner _runner = new();
    private readonly MountSerializer _mounts = new(lockFile: null);
    private readonly OperationLocks _locks = new();
    private readonly DirectoryInfo _mountpoint = Directory.CreateTempSubdirectory("zfs-csi-unit-");

    private ControllerService Service
    {
        get
        {
            var zfs = new ZfsClient(_runner, new ZfsOptions(), _mounts);
            var logger = new LoggerConfiguration().CreateLogger();
            var volumes = new VolumeManager(
                zfs,
                new VolumeOptions { ParentDataset = "data/k8s" },
                logger,
                new SweepRequests(),
                _locks
            );
            return new ControllerService(volumes, new Core.Snapshots.SnapshotManager(zfs, volumes, logger), _locks);
        }
    }

    private static TestServerCallContext Context => new();

    public void Dispose()
    {
        _mounts.Dispose();
        _mountpoint.Delete(recursive: true);
    }

    private static VolumeCapability Mount(Mode mode = Mode.SingleNodeWriter) =>
        new()
        {
            Mount = new VolumeCapability.Types.MountVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
        };

    private static CreateVolumeRequest Create(string name = Name)
    {
        var request = new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new Csi.V1.CapacityRange { RequiredBytes = DomainRange.GiB },
        };
        request.VolumeCapabilities.Add(Mount());
        return request;
    }

    private string Ready(string dataset = Dataset, long refquota = DomainRange.GiB) =>
        VolumeRows(dataset, Name, refquota: refquota, mountpoint: _mountpoint.FullName);

    public static TheoryData<string, Action<CreateVolumeRequest>> BadCreates() =>
        new()
        {
            { "no name", r => r.Name = "" },
            { "no capabilities", r => r.VolumeCapabilities.Clear() },
            {
                "block",
                r =>
                    r.VolumeCapabilities[0] = new VolumeCapability
                    {
                        Block = new(),
                        AccessMode = new() { Mode = Mode.SingleNodeWriter },
                    }
            },
            { "ext4", r => r.VolumeCapabilities[0].Mount.FsType = "ext4" },
            { "unknown parameter", r => r.Parameters.Add("fstype", "ext4") },
            { "bad parameter value", r => r.Parameters.Add("compression", "fast") },
            { "empty content source", r => r.VolumeContentSource = new VolumeContentSource() },
            { "negative capacity", r => r.CapacityRange.RequiredBytes = -1 },
            { "limit below required", r => r.CapacityRange.LimitBytes = 1 },
            { "name over 128 bytes", r => r.Name = new string('x', 129) },
            { "a view asked for without a snapshot", r => r.Parameters.Add("view", "always") },
            {
                "a view asked for with a writer mode",
                r =>
                {
                    r.Parameters.Add("view", "always");
                    r.VolumeContentSource = FromSnapshot("data/k8s/pvc-gone@snap-gone");
                }
            },
            {
                "a view asked for with a volume as source",
                r =>
                {
                    r.Parameters.Add("view", "always");
                    r.VolumeCapabilities[0].AccessMode.Mode = Mode.MultiNodeReaderOnly;
                    r.VolumeContentSource = FromVolume("data/k8s/pvc-gone");
                }
            },
            {
                "no name, from a snapshot that does not exist",
                r =>
                {
                    r.Name = "";
                    r.VolumeContentSource = FromSnapshot("data/k8s/pvc-gone@snap-gone");
                }
            },
            {
                "no capabilities, from a volume that does not exist",
                r =>
                {
                    r.VolumeCapabilities.Clear();
                    r.VolumeContentSource = FromVolume("data/k8s/pvc-gone");
                }
            },
            {
                "name over 128 bytes, from a volume that does not exist",
                r =>
                {
                    r.Name = new string('x', 129);
                    r.VolumeContentSource = FromVolume("data/k8s/pvc-gone");
                }
            },
            { "unknown mutable parameter", r => r.MutableParameters.Add("iops", "3000") },
            { "immutable mutable parameter", r => r.MutableParameters.Add("property.casesensitivity", "mixed") },
            { "bad mutable value", r => r.MutableParameters.Add("recordsize", "100K") },
        };

    public static TheoryData<string, ControllerModifyVolumeRequest> BadModifies() =>
        new()
        {
            { "no volume id", Modify("", ("compression", "on")) },
            { "no mutable parameters", Modify(Dataset) },
            { "unknown key", Modify(Dataset, ("iops", "3000")) },
            { "a StorageClass-only key ZFS fixes at creation", Modify(Dataset, ("property.utf8only", "on")) },
            { "encryption", Modify(Dataset, ("property.encryption", "on")) },
            { "a property the driver manages", Modify(Dataset, ("property.mountpoint", "/x")) },
            { "a bad value", Modify(Dataset, ("provisioning", "fat")) },
            { "one ZFS property twice", Modify(Dataset, ("atime", "on"), ("property.atime", "off")) },
        };

    private static ControllerModifyVolumeRequest Modify(string id, params (string Key, string Value)[] parameters)
    {
        var request = new ControllerModifyVolumeRequest { VolumeId = id };
        foreach (var (key, value) in parameters)
        {
            request.MutableParameters.Add(key, value);
        }
        return request;
    }

    [Theory]
    [MemberData(nameof(BadModifies))]
    public async Task A_bad_modify_is_invalid_argument_while_the_volume_is_busy_and_runs_nothing(
        string why,
        ControllerModifyVolumeRequest request
    )
    {
        using var busy = _locks.TryAcquire(Dataset);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => Service.ControllerModifyVolume(request, Context));

        Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task A_modify_while_the_volume_is_in_flight_is_aborted_and_runs_nothing()
    {
        using var held = _locks.Acquire(Dataset);

        await Assert.ThrowsAsync<OperationPendingException>(() =>
            Service.ControllerModifyVolume(Modify(Dataset, ("compression", "on")), Context)
        );

        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task A_modify_of_an_id_that_is_not_ours_is_not_found_and_runs_nothing()
    {
        await Assert.ThrowsAsync<NotFoundException>(() =>
            Service.ControllerModifyVolume(Modify("other/pool/x", ("compression", "on")), Context)
        );

        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task Validate_confirms_the_mutable_parameters_it_was_given()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(Ready());
        var request = new ValidateVolumeCapabilitiesRequest { VolumeId = Dataset };
        request.VolumeCapabilities.Add(Mount());
        request.MutableParameters.Add("compression", "gzip");

        var response = await Service.ValidateVolumeCapabilities(request, Context);

        Assert.Equal("gzip", response.Confirmed.MutableParameters["compression"]);
    }

    [Fact]
    public async Task Validate_leaves_an_immutable_mutable_parameter_unconfirmed_with_a_message()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(Ready());
        var request = new ValidateVolumeCapabilitiesRequest { VolumeId = Dataset };
        request.VolumeCapabilities.Add(Mount());
        request.MutableParameters.Add("property.normalization", "formD");

        var response = await Service.ValidateVolumeCapabilities(request, Context);

        Assert.Null(response.Confirmed);
        Assert.Contains("StorageClass", response.Message, StringComparison.Ordinal);
    }

    private static VolumeContentSource FromSnapshot(string id) =>
        new() { Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = id } };

    private static VolumeContentSource FromVolume(string id) =>
        new() { Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = id } };

    [Theory]
    [MemberData(nameof(BadCreates))]
    public async Task A_bad_create_request_is_invalid_argument_even_while_its_name_and_source_are_busy(
        string why,
        Action<CreateVolumeRequest> spoil
    )
    {
        // Every check comes before the locks: a bad request is never told to retry (ABORTED).
        var request = Create();
        spoil(request);
        using var name = _locks.TryAcquire(Dataset);
        using var source = _locks.TryAcquire("data/k8s/pvc-gone");
        using var snapshot = _locks.TryAcquire("data/k8s/pvc-gone@snap-gone");

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => Service.CreateVolume(request, Context));

        Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        Assert.Empty(_runner.Calls);
    }

    [Theory]
    [MemberData(nameof(BadCreates))]
    public async Task A_bad_create_request_is_invalid_argument_and_runs_nothing(
        string why,
        Action<CreateVolumeRequest> spoil
    )
    {
        var request = Create();
        spoil(request);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => Service.CreateVolume(request, Context));

        Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task A_limit_below_the_smallest_volume_is_out_of_range_and_runs_nothing()
    {
        var request = Create();
        request.CapacityRange = new Csi.V1.CapacityRange { LimitBytes = 4096 };

        await Assert.ThrowsAsync<CapacityOutOfRangeException>(() => Service.CreateVolume(request, Context));

        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task A_create_while_the_same_name_is_in_flight_is_aborted_and_runs_nothing()
    {
        using var held = _locks.Acquire(Dataset);

        await Assert.ThrowsAsync<OperationPendingException>(() => Service.CreateVolume(Create(), Context));

        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task A_create_answers_the_dataset_as_volume_id_with_its_capacity()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(Ready());

        var response = await Service.CreateVolume(Create(), Context);

        Assert.Equal(Dataset, response.Volume.VolumeId);
        Assert.Equal(DomainRange.GiB, response.Volume.CapacityBytes);
    }

    private const string ViewSource = "data/k8s/pvc-a@snap-1";

    private string ReadyView() =>
        Ready()
        + Row(Dataset, Markers.View, Markers.ViewOn, "local")
        + Row(Dataset, Markers.Source, "snapshot:" + ViewSource, "local");

    [Fact]
    public async Task A_reader_only_create_from_a_snapshot_answers_the_view_with_its_volume_context()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(ReadyView());
        var request = Create();
        request.VolumeCapabilities[0].AccessMode.Mode = Mode.MultiNodeReaderOnly;
        request.VolumeContentSource = FromSnapshot(ViewSource);

        var response = await Service.CreateVolume(request, Context);

        Assert.Equal("true", response.Volume.VolumeContext[Views.ContextKey]);
        Assert.Equal(ViewSource, response.Volume.ContentSource.Snapshot.SnapshotId);
    }

    [Fact]
    public async Task A_writer_create_from_a_snapshot_whose_name_holds_a_view_is_already_exists()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(ReadyView());
        var request = Create();
        request.VolumeContentSource = FromSnapshot(ViewSource);

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() => Service.CreateVolume(request, Context));

        Assert.Contains("read-only view", e.Message, StringComparison.Ordinal);
        Assert.Equal([GetVolume(Dataset)], _runner.Argv);
    }

    [Fact]
    public async Task A_reader_only_retry_whose_name_holds_a_clone_answers_the_clone_unless_the_class_demands_a_view()
    {
        _runner
            .OnZfs(GetVolume(Dataset))
            .Returns(Ready() + Row(Dataset, Markers.Source, "snapshot:" + ViewSource, "local"));
        var request = Create();
        request.VolumeCapabilities[0].AccessMode.Mode = Mode.MultiNodeReaderOnly;
        request.VolumeContentSource = FromSnapshot(ViewSource);

        var response = await Service.CreateVolume(request, Context);
        Assert.Equal(Dataset, response.Volume.VolumeId);
        Assert.False(response.Volume.VolumeContext.ContainsKey(Views.ContextKey));

        request.Parameters.Add("view", "always");
        // The class's digest differs too; either way the clone is not what view: always asks for.
        await Assert.ThrowsAsync<AlreadyExistsException>(() => Service.CreateVolume(request, Context));
    }

    [Fact]
    public async Task Validate_does_not_confirm_a_writer_mode_for_a_view()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(ReadyView());
        var request = new ValidateVolumeCapabilitiesRequest { VolumeId = Dataset };
        request.VolumeCapabilities.Add(Mount(Mode.MultiNodeMultiWriter));

        var response = await Service.ValidateVolumeCapabilities(request, Context);

        Assert.Null(response.Confirmed);
        Assert.Contains("read-only view", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_confirms_a_reader_only_mode_for_a_view()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(ReadyView());
        var request = new ValidateVolumeCapabilitiesRequest { VolumeId = Dataset };
        request.VolumeCapabilities.Add(Mount(Mode.MultiNodeReaderOnly));

        var response = await Service.ValidateVolumeCapabilities(request, Context);

        Assert.NotNull(response.Confirmed);
    }

    [Fact]
    public async Task The_lock_is_released_after_a_failed_create()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(VolumeRows(Dataset, csiName: null));

        await Assert.ThrowsAsync<AlreadyExistsException>(() => Service.CreateVolume(Create(), Context));

        using var free = _locks.Acquire(Dataset);
    }

    [Fact]
    public async Task A_delete_without_volume_id_is_invalid_argument()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() => Service.DeleteVolume(new DeleteVolumeRequest(), Context));

        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task A_delete_of_an_id_that_is_not_ours_succeeds_and_runs_nothing()
    {
        await Service.DeleteVolume(new DeleteVolumeRequest { VolumeId = "some-other-driver-volume" }, Context);

        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task A_delete_while_the_volume_is_in_flight_is_aborted()
    {
        using var held = _locks.Acquire(Dataset);

        await Assert.ThrowsAsync<OperationPendingException>(() =>
            Service.DeleteVolume(new DeleteVolumeRequest { VolumeId = Dataset }, Context)
        );
    }

    [Fact]
    public async Task An_expand_without_capacity_range_is_invalid_argument()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Service.ControllerExpandVolume(new ControllerExpandVolumeRequest { VolumeId = Dataset }, Context)
        );

        Assert.Empty(_runner.Calls);
    }

    public static TheoryData<string, Csi.V1.CapacityRange?> BadExpandRanges() =>
        new()
        {
            { "no capacity range", null },
            {
                "negative required_bytes",
                new Csi.V1.CapacityRange { RequiredBytes = -1 }
            },
            {
                "negative limit_bytes",
                new Csi.V1.CapacityRange { LimitBytes = -1 }
            },
            {
                "limit below required",
                new Csi.V1.CapacityRange { RequiredBytes = 2 * DomainRange.GiB, LimitBytes = DomainRange.GiB }
            },
        };

    [Theory]
    [MemberData(nameof(BadExpandRanges))]
    public async Task An_expand_with_a_bad_range_is_invalid_argument_for_an_unknown_or_busy_volume_and_runs_nothing(
        string why,
        Csi.V1.CapacityRange? range
    )
    {
        foreach (var id in new[] { "data/k8s/pvc-never-made", "foreign/volume", Dataset })
        {
            using var busy = _locks.TryAcquire(Dataset);
            var request = new ControllerExpandVolumeRequest { VolumeId = id, CapacityRange = range };

            var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
                Service.ControllerExpandVolume(request, Context)
            );

            Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        }
        Assert.Empty(_runner.Calls);
    }

    public static TheoryData<string, CreateSnapshotRequest> BadSnapshots() =>
        new()
        {
            {
                "no name",
                new CreateSnapshotRequest { SourceVolumeId = "data/k8s/pvc-never-made" }
            },
            {
                "no source volume id",
                new CreateSnapshotRequest { Name = "snapshot-1" }
            },
            {
                "name over 128 bytes",
                new CreateSnapshotRequest { Name = new string('s', 129), SourceVolumeId = Dataset }
            },
            {
                "a banned control character in the name",
                new CreateSnapshotRequest { Name = "snap\u0001", SourceVolumeId = "data/k8s/pvc-never-made" }
            },
            {
                "a parameter of ours",
                new CreateSnapshotRequest
                {
                    Name = "snapshot-1",
                    SourceVolumeId = Dataset,
                    Parameters = { ["compression"] = "on" },
                }
            },
        };

    [Theory]
    [MemberData(nameof(BadSnapshots))]
    public async Task A_bad_snapshot_request_is_invalid_argument_while_its_source_is_busy_and_runs_nothing(
        string why,
        CreateSnapshotRequest request
    )
    {
        using var busy = _locks.TryAcquire(Dataset);
        using var unknown = _locks.TryAcquire("data/k8s/pvc-never-made");

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => Service.CreateSnapshot(request, Context));

        Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        Assert.Empty(_runner.Calls);
    }

    [Fact]
    public async Task An_expand_needs_no_node_step()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(Ready(refquota: 2 * DomainRange.GiB));

        var response = await Service.ControllerExpandVolume(
            new ControllerExpandVolumeRequest
            {
                VolumeId = Dataset,
                CapacityRange = new Csi.V1.CapacityRange { RequiredBytes = 2 * DomainRange.GiB },
            },
            Context
        );

        Assert.Equal(2 * DomainRange.GiB, response.CapacityBytes);
        Assert.False(response.NodeExpansionRequired);
    }

    [Fact]
    public async Task Validate_confirms_supported_capabilities_of_an_existing_volume()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(Ready());
        var request = new ValidateVolumeCapabilitiesRequest { VolumeId = Dataset };
        request.VolumeCapabilities.Add(Mount(Mode.MultiNodeMultiWriter));

        var response = await Service.ValidateVolumeCapabilities(request, Context);

        Assert.NotNull(response.Confirmed);
        Assert.Single(response.Confirmed.VolumeCapabilities);
    }

    [Fact]
    public async Task Validate_leaves_unsupported_capabilities_unconfirmed_with_a_message()
    {
        _runner.OnZfs(GetVolume(Dataset)).Returns(Ready());
        var request = new ValidateVolumeCapabilitiesRequest { VolumeId = Dataset };
        request.VolumeCapabilities.Add(
            new VolumeCapability
            {
                Block = new(),
                AccessMode = new() { Mode = Mode.SingleNodeWriter },
            }
        );

        var response = await Service.ValidateVolumeCapabilities(request, Context);

        Assert.Null(response.Confirmed);
        Assert.Contains("block", response.Message);
    }

    [Fact]
    public async Task Validate_of_a_volume_that_is_not_ours_is_not_found()
    {
        var request = new ValidateVolumeCapabilitiesRequest { VolumeId = "data/elsewhere/x" };
        request.VolumeCapabilities.Add(Mount());

        await Assert.ThrowsAsync<NotFoundException>(() => Service.ValidateVolumeCapabilities(request, Context));
    }

    [Fact]
    public async Task The_last_page_of_a_listing_has_an_empty_next_token()
    {
        _runner.OnZfs(GetChildren()).Returns(ZfsFuseOutput.GetChildren);

        var response = await Service.ListVolumes(new ListVolumesRequest(), Context);

        Assert.Equal("data/k8s/pvc-1", Assert.Single(response.Entries).Volume.VolumeId);
        Assert.Equal("", response.NextToken);
    }

    [Fact]
    public async Task Capabilities_include_create_delete_expand_and_list()
    {
        var response = await Service.ControllerGetCapabilities(new ControllerGetCapabilitiesRequest(), Context);
        var types = response.Capabilities.Select(c => c.Rpc.Type).ToList();

        Assert.Contains(RpcType.CreateDeleteVolume, types);
        Assert.Contains(RpcType.ExpandVolume, types);
        Assert.Contains(RpcType.ListVolumes, types);
        Assert.Contains(RpcType.ModifyVolume, types);
        Assert.DoesNotContain(RpcType.PublishUnpublishVolume, types);
    }
}
