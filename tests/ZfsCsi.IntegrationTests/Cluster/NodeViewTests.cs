using Csi.V1;
using Grpc.Core;
using static ZfsCsi.IntegrationTests.Cluster.NodeRequests;
using static ZfsCsi.IntegrationTests.Controller.Requests;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>A read-only view of a snapshot published on another node over SSHFS: read, never written, reported.</summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeViewTests(ClusterFixture cluster)
{
    [Fact]
    public async Task A_view_published_on_another_node_reads_the_snapshot_read_only_and_a_writer_publish_is_refused()
    {
        var controller = cluster.Client.Controller;
        var id = await cluster.CreateVolumeAsync(Unique("pvc-nv"), 16 * MiB);
        await File.WriteAllTextAsync($"{cluster.AlicePath(id)}/f", "at the snapshot");
        await Infrastructure.Sh.CheckAsync("sync");
        var snapshot = (
            await controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = Unique("snapshot-nv"), SourceVolumeId = id }
            )
        ).Snapshot;
        await File.WriteAllTextAsync($"{cluster.AlicePath(id)}/f", "after the snapshot");
        var request = Create(Unique("pvc-nvw"), 0);
        request.VolumeCapabilities[0].AccessMode.Mode = Mode.MultiNodeReaderOnly;
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId },
        };
        var view = (await controller.CreateVolumeAsync(request)).Volume;

        var target = cluster.Wakko.NewTarget();
        // kubelet sends readonly=false for a ReadOnlyMany PVC whose pod does not set readOnly.
        var publish = Publish(view.VolumeId, target, readOnly: false, mode: Mode.MultiNodeReaderOnly);
        publish.VolumeContext.Add(view.VolumeContext);
        await cluster.Wakko.Node.NodePublishVolumeAsync(publish);
        try
        {
            Assert.Equal("at the snapshot", await cluster.Wakko.CheckAsync("cat", $"{target}/f"));
            var write = await cluster.Wakko.ExecAsync("touch", $"{target}/g");
            Assert.NotEqual(0, write.ExitCode);
            Assert.Contains("Read-only file system", write.StandardError, StringComparison.Ordinal);
            Assert.Contains(
                " ro,",
                cluster.Wakko.MountInfo.Split('\n').Single(l => l.Contains($" {target} ", StringComparison.Ordinal))
            );
            await cluster.Wakko.Node.NodePublishVolumeAsync(publish); // idempotent

            var stats = await cluster.Wakko.Node.NodeGetVolumeStatsAsync(
                new NodeGetVolumeStatsRequest { VolumeId = view.VolumeId, VolumePath = target }
            );
            var bytes = stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes);
            Assert.Equal(view.CapacityBytes, bytes.Total);
            Assert.True(bytes.Used > 0);

            var writer = Publish(view.VolumeId, cluster.Yakko.NewTarget(), mode: Mode.MultiNodeMultiWriter);
            writer.VolumeContext.Add(view.VolumeContext);
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(writer).ResponseAsync
            );
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            Assert.False(cluster.Yakko.HasMountAt(writer.TargetPath));
        }
        finally
        {
            await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(view.VolumeId, target));
            await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = view.VolumeId });
            await controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId });
            await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        }
        Assert.False(cluster.Wakko.HasMountAt(target));
    }
}
