using Csi.V1;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Lab;

/// <summary>
/// The walk's cluster part: a volume published to pods on two nodes at once, a write on one read
/// on the other, df as the pod sees it, an online expansion and an online ControllerModifyVolume
/// (compression, read back with zfs get on the storage host), then snapshot, restore into a larger
/// volume, clone and a group snapshot (one member restored on its own), each shown to hold the
/// data. Everything it makes it removes again.
/// </summary>
public static class ClusterWalk
{
    private const long MiB = 1024 * 1024;

    public static async Task RunAsync(
        Controller.ControllerClient controller,
        GroupController.GroupControllerClient groups,
        string state,
        StorageHostShell storageHost
    )
    {
        using var yakko = LabNode.Open(state, "yakko");
        using var wakko = LabNode.Open(state, "wakko");
        using var dot = LabNode.Open(state, "dot");
        var stamp = DateTime.UtcNow.ToString("HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var cleanup = new List<Func<Task>>();
        try
        {
            var shared = await CreateAsync(controller, $"pvc-shared-{stamp}", 64 * MiB, null, cleanup);
            var onYakko = await Walk.Step(
                "publish it to a pod on yakko",
                () => PublishAsync(yakko, shared, "pod-a", cleanup),
                t => t
            );
            var onWakko = await Walk.Step(
                "publish it to a pod on wakko",
                () => PublishAsync(wakko, shared, "pod-b", cleanup),
                t => t
            );
            var text = $"written on yakko at {DateTime.UtcNow:O}";
            await Walk.Step(
                "write a file on yakko",
                async () =>
                    await yakko.RunAsync("sh", "-c", "printf '%s' \"$1\" > \"$2\"/hello.txt", "sh", text, onYakko),
                _ => "hello.txt"
            );
            await ReadAsync(wakko, onWakko, text, "read it on wakko", "wakko read", "");
            await Walk.Step(
                "df in the pod's view on wakko",
                async () =>
                    (await wakko.RunAsync("df", "-h", "--output=size,used,avail", onWakko))
                        .Trim()
                        .Replace("\n", " | ", StringComparison.Ordinal),
                r => r
            );
            await Walk.Step(
                "expand it to 128 MiB while published",
                async () =>
                    await controller.ControllerExpandVolumeAsync(
                        new ControllerExpandVolumeRequest
                        {
                            VolumeId = shared,
                            CapacityRange = new CapacityRange { RequiredBytes = 128 * MiB },
                        }
                    ),
                r => $"{r.CapacityBytes / MiB} MiB"
            );
            await Walk.Step(
                "df on wakko again",
                async () =>
                    (await wakko.RunAsync("df", "-h", "--output=size", onWakko))
                        .Trim()
                        .Replace("\n", " ", StringComparison.Ordinal),
                r => r
            );

            // A VolumeAttributesClass change: the external-resizer sends the class's parameters to
            // ControllerModifyVolume, and the dataset changes under the published volume. gzip is a
            // compression both zfs-fuse (no lz4, no zstd) and OpenZFS take.
            var compression = await Walk.Step(
                "zfs get compression on alice (the storage host)",
                () => CompressionAsync(storageHost, shared),
                c => c
            );
            await Walk.Step(
                "modify it online: ControllerModifyVolume with mutable_parameters compression=gzip",
                async () =>
                    await controller.ControllerModifyVolumeAsync(
                        new ControllerModifyVolumeRequest
                        {
                            VolumeId = shared,
                            MutableParameters = { ["compression"] = "gzip" },
                        }
                    ),
                _ => "OK"
            );
            await Walk.Step(
                "zfs get compression on alice again",
                async () =>
                {
                    var now = await CompressionAsync(storageHost, shared);
                    return now.StartsWith("gzip (", StringComparison.Ordinal)
                        ? now
                        : throw new LabException($"compression of {shared} is '{now}' after the modify, not gzip");
                },
                now => $"{now}, was {compression}"
            );
            await ReadAsync(
                wakko,
                onWakko,
                text,
                "read the file on wakko",
                "wakko read",
                ": still there, still published"
            );

            var snapshot = await Walk.Step(
                "snapshot it",
                async () =>
                    (
                        await controller.CreateSnapshotAsync(
                            new CreateSnapshotRequest { Name = $"snap-{stamp}", SourceVolumeId = shared }
                        )
                    ).Snapshot,
                s => $"{s.SnapshotId}, restore size {s.SizeBytes / MiB} MiB, ready {s.ReadyToUse}"
            );
            cleanup.Add(async () =>
                await controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId })
            );
            await Walk.Step(
                "change the file after the snapshot",
                async () => await yakko.RunAsync("sh", "-c", "printf changed > \"$1\"/hello.txt", "sh", onYakko),
                _ => "hello.txt now says 'changed'"
            );

            var restored = await CreateAsync(
                controller,
                $"pvc-restored-{stamp}",
                256 * MiB,
                new VolumeContentSource
                {
                    Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId },
                },
                cleanup,
                "restore the snapshot into a new 256 MiB volume"
            );
            var onDot = await Walk.Step(
                "publish the restore to a pod on dot",
                () => PublishAsync(dot, restored, "pod-c", cleanup),
                t => t
            );
            await ReadAsync(dot, onDot, text, "read the file on dot", "the restore holds", ": the snapshot's content");
            await ViewAsync(controller, wakko, snapshot.SnapshotId, text, stamp, cleanup);

            var clone = await CreateAsync(
                controller,
                $"pvc-clone-{stamp}",
                128 * MiB,
                new VolumeContentSource { Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = shared } },
                cleanup,
                "clone the shared volume"
            );
            var cloneOnWakko = await Walk.Step(
                "publish the clone to a pod on wakko",
                () => PublishAsync(wakko, clone, "pod-d", cleanup),
                t => t
            );
            await ReadAsync(
                wakko,
                cloneOnWakko,
                "changed",
                "read the file in the clone",
                "the clone holds",
                ": the volume as it is now"
            );

            await Walk.Step(
                "write the file on yakko again",
                async () =>
                    await yakko.RunAsync(
                        "sh",
                        "-c",
                        "printf 'at the group snapshot' > \"$1\"/hello.txt",
                        "sh",
                        onYakko
                    ),
                _ => "hello.txt now says 'at the group snapshot'"
            );
            var group = await Walk.Step(
                "take a group snapshot of the shared volume and its clone at one instant",
                async () =>
                {
                    var request = new CreateVolumeGroupSnapshotRequest { Name = $"group-{stamp}" };
                    request.SourceVolumeIds.Add(shared);
                    request.SourceVolumeIds.Add(clone);
                    return (await groups.CreateVolumeGroupSnapshotAsync(request)).GroupSnapshot;
                },
                g => $"{g.GroupSnapshotId}: {string.Join(", ", g.Snapshots.Select(s => s.SnapshotId))}"
            );
            cleanup.Add(async () =>
            {
                var request = new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId };
                request.SnapshotIds.Add(group.Snapshots.Select(s => s.SnapshotId));
                await groups.DeleteVolumeGroupSnapshotAsync(request);
            });
            await Walk.Step(
                "change the file after the group snapshot",
                async () =>
                    await yakko.RunAsync(
                        "sh",
                        "-c",
                        "printf 'after the group snapshot' > \"$1\"/hello.txt",
                        "sh",
                        onYakko
                    ),
                _ => "hello.txt now says 'after the group snapshot'"
            );
            var member = group.Snapshots.Single(s => s.SourceVolumeId == shared);
            var fromGroup = await CreateAsync(
                controller,
                $"pvc-from-group-{stamp}",
                member.SizeBytes,
                new VolumeContentSource
                {
                    Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = member.SnapshotId },
                },
                cleanup,
                "restore the shared volume's member of the group on its own"
            );
            var fromGroupOnDot = await Walk.Step(
                "publish it to a pod on dot",
                () => PublishAsync(dot, fromGroup, "pod-e", cleanup),
                t => t
            );
            await ReadAsync(
                dot,
                fromGroupOnDot,
                "at the group snapshot",
                "read the file on dot",
                "the group member holds",
                ": the group's instant"
            );
            await Walk.Step(
                "list snapshots",
                async () => await controller.ListSnapshotsAsync(new ListSnapshotsRequest()),
                r => string.Join(", ", r.Entries.Select(e => e.Snapshot.SnapshotId))
            );
        }
        finally
        {
            Console.WriteLine(
                "==> clean up: unpublish, delete snapshots and volumes (in the reverse order of their making)"
            );
            cleanup.Reverse();
            foreach (var step in cleanup)
            {
                await step();
            }
        }
    }

    /// <summary>The volume's compression and its source, as <c>zfs get</c> on the storage host prints them ("gzip (local)").</summary>
    private static async Task<string> CompressionAsync(StorageHostShell storageHost, string volumeId)
    {
        var row = (
            await storageHost.RunAsync("zfs", "get", "-H", "-o", "value,source", "compression", volumeId)
        ).Trim();
        var fields = row.Split('\t');
        return fields.Length == 2 ? $"{fields[0]} ({fields[1]})" : row;
    }

    /// <summary>
    /// What a backup tool does (README, "Read-only views"): a ReadOnlyMany restore of the snapshot
    /// is a read-only view, nothing copied, published read-only on another node and read there; a
    /// write in it fails.
    /// </summary>
    private static async Task ViewAsync(
        Controller.ControllerClient controller,
        LabNode node,
        string snapshotId,
        string expected,
        string stamp,
        List<Func<Task>> cleanup
    )
    {
        var reader = new VolumeCapability
        {
            Mount = new VolumeCapability.Types.MountVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.MultiNodeReaderOnly },
        };
        var view = await Walk.Step(
            "restore the snapshot as a read-only view (ReadOnlyMany, as a backup tool does)",
            async () =>
            {
                var request = new CreateVolumeRequest
                {
                    Name = $"pvc-view-{stamp}",
                    VolumeContentSource = new VolumeContentSource
                    {
                        Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshotId },
                    },
                };
                request.VolumeCapabilities.Add(reader);
                var v = (await controller.CreateVolumeAsync(request)).Volume;
                cleanup.Add(async () =>
                    await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = v.VolumeId })
                );
                return v.VolumeContext.TryGetValue("zfs.csi.dev/view", out var isView) && isView == "true"
                    ? v
                    : throw new LabException($"a ReadOnlyMany restore gave {v.VolumeId}, which is not a view");
            },
            v => $"{v.VolumeId}, {v.CapacityBytes / MiB} MiB (the snapshot's size), a view: nothing copied"
        );
        var target = await Walk.Step(
            $"publish the view to a pod on {node.Name}",
            () => PublishAsync(node, view.VolumeId, "pod-view", cleanup, reader, view.VolumeContext),
            t => t + " (read-only)"
        );
        await ReadAsync(
            node,
            target,
            expected,
            $"read the file in the view on {node.Name}",
            "the view holds",
            ": the snapshot's content"
        );
        await Walk.Step(
            $"try to write in the view on {node.Name}",
            async () =>
            {
                var said = (
                    await node.RunAsync("sh", "-c", "touch \"$1\"/new.txt 2>&1 && echo WROTE || true", "sh", target)
                ).Trim();
                return said.Contains("Read-only file system", StringComparison.Ordinal)
                    ? said
                    : throw new LabException($"a write in the view did not fail as read-only: '{said}'");
            },
            r => $"refused: {r[(r.LastIndexOf(':') + 1)..].Trim()}"
        );
    }

    /// <summary>A step that reads hello.txt in a pod's view on a node and fails the walk unless it holds <paramref name="expected"/>.</summary>
    private static Task ReadAsync(
        LabNode node,
        string target,
        string expected,
        string step,
        string holder,
        string meaning
    ) =>
        Walk.Step(
            step,
            async () =>
            {
                var read = await node.RunAsync("cat", Path.Combine(target, "hello.txt"));
                return read == expected ? read : throw new LabException($"{holder} '{read}', not '{expected}'");
            },
            r => $"'{r}'{meaning}"
        );

    private static async Task<string> CreateAsync(
        Controller.ControllerClient controller,
        string name,
        long bytes,
        VolumeContentSource? source,
        List<Func<Task>> cleanup,
        string? what = null
    )
    {
        var volume = await Walk.Step(
            what ?? $"create volume '{name}' of {bytes / MiB} MiB (multi-node writer)",
            async () =>
            {
                var request = new CreateVolumeRequest
                {
                    Name = name,
                    CapacityRange = new CapacityRange { RequiredBytes = bytes },
                    VolumeContentSource = source,
                };
                request.VolumeCapabilities.Add(Capability());
                return (await controller.CreateVolumeAsync(request)).Volume;
            },
            v => $"{v.VolumeId}, {v.CapacityBytes / MiB} MiB"
        );
        cleanup.Add(async () =>
            await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume.VolumeId })
        );
        return volume.VolumeId;
    }

    internal static async Task<string> PublishAsync(
        LabNode node,
        string volumeId,
        string pod,
        List<Func<Task>> cleanup,
        VolumeCapability? capability = null,
        IDictionary<string, string>? volumeContext = null
    )
    {
        var target = node.TargetFor(pod, volumeId.Replace('/', '-'));
        var request = new NodePublishVolumeRequest
        {
            VolumeId = volumeId,
            TargetPath = target,
            VolumeCapability = capability ?? Capability(),
        };
        if (volumeContext is not null)
        {
            request.VolumeContext.Add(volumeContext);
        }
        // As kubelet does: UNAVAILABLE (the node's SSHFS mount is being made again) is retried after a pause.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await node.Client.NodePublishVolumeAsync(request);
                break;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Unavailable && attempt < 5)
            {
                Console.WriteLine($"    {e.Status.Detail}: retrying in 2 s, as kubelet would");
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
        cleanup.Add(async () =>
            await node.Client.NodeUnpublishVolumeAsync(
                new NodeUnpublishVolumeRequest { VolumeId = volumeId, TargetPath = target }
            )
        );
        return target;
    }

    internal static VolumeCapability Capability() =>
        new()
        {
            Mount = new VolumeCapability.Types.MountVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.MultiNodeMultiWriter },
        };
}
