using System.Text;
using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;
using static ZfsCsi.Conformance.Infrastructure.Requests;
using ControllerRpc = Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Conformance.ControllerRpcs;

/// <summary>
/// CSI spec, "CreateSnapshot", "DeleteSnapshot", "ListSnapshots", "GetSnapshot" and volumes from
/// a snapshot or a volume (CreateVolume volume_content_source). Each test checks the RPC when its
/// capability is advertised and the spec's UNIMPLEMENTED when it is not.
/// </summary>
public sealed class SnapshotTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    private bool Snapshots => Fx.Advertises(ControllerRpc.CreateDeleteSnapshot);

    /// <summary>Without CREATE_DELETE_SNAPSHOT both RPCs are UNIMPLEMENTED (Error Scheme).</summary>
    private async Task<bool> RequireSnapshotsAsync()
    {
        if (Snapshots)
        {
            return true;
        }
        await Rpc.FailsWith(
            StatusCode.Unimplemented,
            Fx.Controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = UniqueName("snap"), SourceVolumeId = await Fx.SharedVolumeIdAsync() }
            )
        );
        await Rpc.FailsWith(
            StatusCode.Unimplemented,
            Fx.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = "csan-snapshot" })
        );
        return false;
    }

    [Fact]
    [Trait("spec", "CreateSnapshot")]
    public async Task CreateSnapshot_without_a_name_or_a_source_volume_id_is_INVALID_ARGUMENT()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // CreateSnapshotRequest.name and source_volume_id: "This field is REQUIRED."
        var volume = await Volumes.CreateAsync("snap-req");
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.CreateSnapshotAsync(new CreateSnapshotRequest { SourceVolumeId = volume.VolumeId })
        );
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.CreateSnapshotAsync(new CreateSnapshotRequest { Name = UniqueName("snap") })
        );
    }

    [Fact]
    [Trait("spec", "CreateSnapshot")]
    public async Task CreateSnapshot_of_an_unknown_volume_fails_and_lists_nothing()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // The spec names no code for a missing source; NOT_FOUND is its code for "does not exist"
        // everywhere else, INVALID_ARGUMENT its general one. Anything else, or OK, is wrong.
        var name = UniqueName("snap-orphan");
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await Fx.Controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = name, SourceVolumeId = $"{Fx.Pool.Parent}/csan-never-made" }
            )
        );
        Assert.Contains(e.StatusCode, new[] { StatusCode.NotFound, StatusCode.InvalidArgument });
    }

    [Fact]
    [Trait("spec", "CreateSnapshot")]
    public async Task CreateSnapshot_returns_a_snapshot_of_its_source_with_every_required_field()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        var volume = await Volumes.CreateAsync("snap-fields");
        var snapshot = await Volumes.SnapshotAsync(volume.VolumeId);
        // Snapshot: snapshot_id, source_volume_id, creation_time, ready_to_use are REQUIRED.
        Assert.False(string.IsNullOrEmpty(snapshot.SnapshotId));
        Assert.True(
            Encoding.UTF8.GetByteCount(snapshot.SnapshotId) <= 128,
            $"snapshot_id '{snapshot.SnapshotId}' exceeds 128 bytes (Size Limits)"
        );
        Assert.Equal(volume.VolumeId, snapshot.SourceVolumeId);
        Assert.NotNull(snapshot.CreationTime);
        Assert.True(snapshot.CreationTime.Seconds > 0);
        Assert.True(snapshot.SizeBytes >= 0);
        Assert.Equal("", snapshot.GroupSnapshotId);
    }

    [Fact]
    [Trait("spec", "CreateSnapshot")]
    public async Task CreateSnapshot_twice_with_the_same_name_returns_the_same_snapshot()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // CreateSnapshot: "If a snapshot corresponding to the specified snapshot name is successfully
        // cut and ready to use ... the Plugin MUST reply 0 OK with the corresponding CreateSnapshotResponse."
        var volume = await Volumes.CreateAsync("snap-idem");
        var name = UniqueName("snap");
        var first = await Volumes.SnapshotAsync(volume.VolumeId, name);
        var second = await Volumes.SnapshotAsync(volume.VolumeId, name);
        Assert.Equal(first.SnapshotId, second.SnapshotId);
        Assert.Equal(first.CreationTime, second.CreationTime);
        Assert.Equal(first.SourceVolumeId, second.SourceVolumeId);
    }

    [Fact]
    [Trait("spec", "CreateSnapshot")]
    public async Task CreateSnapshot_accepts_any_unicode_name_and_is_idempotent_on_it()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // CreateSnapshotRequest.name: "Any Unicode string that conforms to the length limit is
        // allowed except those containing the following banned characters" (control characters).
        var volume = await Volumes.CreateAsync("snap-names");
        var name = $"snap shot/@ü {Guid.NewGuid():N}";
        var first = await Volumes.SnapshotAsync(volume.VolumeId, name);
        var second = await Volumes.SnapshotAsync(volume.VolumeId, name);
        Assert.Equal(first.SnapshotId, second.SnapshotId);
        Assert.True(Encoding.UTF8.GetByteCount(first.SnapshotId) <= 128);
    }

    [Fact]
    [Trait("spec", "CreateSnapshot Errors")]
    public async Task CreateSnapshot_with_the_same_name_for_another_volume_is_ALREADY_EXISTS()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // CreateSnapshot Errors: "Snapshot already exists but is incompatible | 6 ALREADY_EXISTS".
        var one = await Volumes.CreateAsync("snap-one");
        var other = await Volumes.CreateAsync("snap-other");
        var name = UniqueName("snap");
        await Volumes.SnapshotAsync(one.VolumeId, name);
        await Rpc.FailsWith(
            StatusCode.AlreadyExists,
            Fx.Controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = name, SourceVolumeId = other.VolumeId }
            )
        );
    }

    [Fact]
    [Trait("spec", "DeleteSnapshot")]
    public async Task DeleteSnapshot_without_an_id_is_INVALID_ARGUMENT()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest()));
    }

    [Fact]
    [Trait("spec", "DeleteSnapshot")]
    public async Task DeleteSnapshot_twice_and_of_unknown_ids_succeeds()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // DeleteSnapshot: "If a snapshot corresponding to the specified snapshot_id does not exist
        // or the artifacts associated with the snapshot do not exist anymore, the Plugin MUST reply 0 OK."
        var volume = await Volumes.CreateAsync("snap-del");
        var snapshot = await Volumes.SnapshotAsync(volume.VolumeId);
        await Fx.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId });
        await Fx.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId });
        foreach (
            var id in new[]
            {
                "csan-unknown-snapshot",
                $"{volume.VolumeId}@csan-never-taken",
                $"{Fx.Pool.Parent}/csan-never-made@x",
            }
        )
        {
            await Fx.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = id });
        }
        if (Fx.Advertises(ControllerRpc.ListSnapshots))
        {
            var listed = await Fx.Controller.ListSnapshotsAsync(
                new ListSnapshotsRequest { SnapshotId = snapshot.SnapshotId }
            );
            Assert.Empty(listed.Entries);
        }
        if (Fx.Advertises(ControllerRpc.GetSnapshot))
        {
            await Rpc.FailsWith(
                StatusCode.NotFound,
                Fx.Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = snapshot.SnapshotId })
            );
        }
    }

    [Fact]
    [Trait("spec", "ListSnapshots")]
    public async Task ListSnapshots_filters_by_snapshot_id_and_by_source_volume()
    {
        if (!Fx.Advertises(ControllerRpc.ListSnapshots))
        {
            await Rpc.FailsWith(StatusCode.Unimplemented, Fx.Controller.ListSnapshotsAsync(new ListSnapshotsRequest()));
            return;
        }
        Assert.True(Snapshots, "LIST_SNAPSHOTS without CREATE_DELETE_SNAPSHOT: nothing to list in this suite");
        var a = await Volumes.CreateAsync("snap-list-a");
        var b = await Volumes.CreateAsync("snap-list-b");
        var a1 = await Volumes.SnapshotAsync(a.VolumeId);
        var a2 = await Volumes.SnapshotAsync(a.VolumeId);
        var b1 = await Volumes.SnapshotAsync(b.VolumeId);

        var byId = await Fx.Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SnapshotId = a2.SnapshotId });
        Assert.Equal(a2, Assert.Single(byId.Entries).Snapshot);

        var bySource = await Fx.Controller.ListSnapshotsAsync(new ListSnapshotsRequest { SourceVolumeId = a.VolumeId });
        Assert.Equal(
            new[] { a1.SnapshotId, a2.SnapshotId }.Order(),
            bySource.Entries.Select(e => e.Snapshot.SnapshotId).Order()
        );
        Assert.DoesNotContain(bySource.Entries, e => e.Snapshot.SnapshotId == b1.SnapshotId);

        // An id or a source that names nothing lists nothing: it is not an error.
        var unknownId = await Fx.Controller.ListSnapshotsAsync(
            new ListSnapshotsRequest { SnapshotId = $"{a.VolumeId}@csan-never-taken" }
        );
        Assert.Empty(unknownId.Entries);
        var unknownSource = await Fx.Controller.ListSnapshotsAsync(
            new ListSnapshotsRequest { SourceVolumeId = $"{Fx.Pool.Parent}/csan-never-made" }
        );
        Assert.Empty(unknownSource.Entries);
    }

    [Fact]
    [Trait("spec", "ListSnapshots")]
    public async Task ListSnapshots_pages_every_snapshot_exactly_once()
    {
        if (!Fx.Advertises(ControllerRpc.ListSnapshots))
        {
            await Rpc.FailsWith(
                StatusCode.Unimplemented,
                Fx.Controller.ListSnapshotsAsync(new ListSnapshotsRequest { MaxEntries = 1 })
            );
            return;
        }
        var volume = await Volumes.CreateAsync("snap-page");
        var made = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            made.Add((await Volumes.SnapshotAsync(volume.VolumeId)).SnapshotId);
        }
        foreach (var max in new[] { 0, 1, 3 })
        {
            var ids = new List<string>();
            var token = "";
            do
            {
                var page = await Fx.Controller.ListSnapshotsAsync(
                    new ListSnapshotsRequest { MaxEntries = max, StartingToken = token }
                );
                Assert.True(max == 0 || page.Entries.Count <= max);
                ids.AddRange(page.Entries.Select(e => e.Snapshot.SnapshotId));
                token = page.NextToken;
            } while (token.Length > 0);
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.All(made, id => Assert.Contains(id, ids));
        }
    }

    [Fact]
    [Trait("spec", "ListSnapshots Errors")]
    public async Task ListSnapshots_with_an_invalid_starting_token_is_ABORTED()
    {
        // ListSnapshots Errors: "Invalid starting_token | 10 ABORTED".
        var expected = Fx.Advertises(ControllerRpc.ListSnapshots) ? StatusCode.Aborted : StatusCode.Unimplemented;
        await Rpc.FailsWith(
            expected,
            Fx.Controller.ListSnapshotsAsync(new ListSnapshotsRequest { StartingToken = "invalid-token" })
        );
    }

    [Fact]
    [Trait("spec", "GetSnapshot")]
    public async Task GetSnapshot_finds_a_snapshot_by_id_and_answers_NOT_FOUND_or_INVALID_ARGUMENT_otherwise()
    {
        if (!Fx.Advertises(ControllerRpc.GetSnapshot))
        {
            await Rpc.FailsWith(
                StatusCode.Unimplemented,
                Fx.Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = "csan-snapshot" })
            );
            return;
        }
        Assert.True(Snapshots);
        var volume = await Volumes.CreateAsync("snap-get");
        var snapshot = await Volumes.SnapshotAsync(volume.VolumeId);
        var got = await Fx.Controller.GetSnapshotAsync(new GetSnapshotRequest { SnapshotId = snapshot.SnapshotId });
        Assert.Equal(snapshot, got.Snapshot);
        // GetSnapshotRequest.snapshot_id: "This field is REQUIRED."; GetSnapshot Errors:
        // "Snapshot does not exist | 5 NOT_FOUND".
        await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.GetSnapshotAsync(new GetSnapshotRequest()));
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.GetSnapshotAsync(
                new GetSnapshotRequest { SnapshotId = $"{volume.VolumeId}@csan-never-taken" }
            )
        );
    }

    [Fact]
    [Trait("spec", "CreateVolume volume_content_source")]
    public async Task A_volume_restored_from_a_snapshot_holds_the_data_of_the_snapshots_moment()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        var source = await Volumes.CreateAsync("restore-src");
        await Storage.WriteAsync(source.VolumeId, "before", "taken");
        var snapshot = await Volumes.SnapshotAsync(source.VolumeId);
        await Storage.WriteAsync(source.VolumeId, "after", "not in the snapshot");

        var request = Create(UniqueName("restored"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId },
        };
        var restored = await Volumes.CreateAsync(request);
        // Volume.content_source: set when the volume is pre-populated from a source.
        Assert.Equal(snapshot.SnapshotId, restored.ContentSource?.Snapshot?.SnapshotId);
        Assert.True(restored.CapacityBytes >= VolumeSize);
        Assert.Equal("taken", await Storage.ReadAsync(restored.VolumeId, "before"));
        Assert.Null(await Storage.ReadAsync(restored.VolumeId, "after"));

        // The same request again is the same volume (CreateVolume idempotency with a source).
        var again = await Volumes.CreateAsync(request);
        Assert.Equal(restored.VolumeId, again.VolumeId);
    }

    [Fact]
    [Trait("spec", "CreateVolume volume_content_source")]
    public async Task A_reader_only_volume_from_a_snapshot_is_a_read_only_view_of_its_moment()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // README, "Read-only views": every access mode reader-only (as a backup tool's ReadOnlyMany
        // PVC): the volume is the snapshot, read-only, its size the snapshot's.
        var source = await Volumes.CreateAsync("view-src");
        await Storage.WriteAsync(source.VolumeId, "before", "taken");
        var snapshot = await Volumes.SnapshotAsync(source.VolumeId);
        await Storage.WriteAsync(source.VolumeId, "after", "not in the snapshot");

        var request = Create(UniqueName("view"), 0);
        request.VolumeCapabilities[0] = Mount(Mode.MultiNodeReaderOnly);
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId },
        };
        var view = await Volumes.CreateAsync(request);
        Assert.Equal(snapshot.SnapshotId, view.ContentSource?.Snapshot?.SnapshotId);
        Assert.Equal(snapshot.SizeBytes, view.CapacityBytes);
        Assert.Equal("true", view.VolumeContext["zfs.csi.dev/view"]);
        Assert.Equal("taken", await Storage.ReadAsync(view.VolumeId, "before"));
        Assert.Null(await Storage.ReadAsync(view.VolumeId, "after"));
        var path = Path.Combine(await Storage.MountpointOfAsync(view.VolumeId), "written");
        var write = await ZfsCsi.LabHosts.StorageHost.Current.RunAsync("sh", ["-c", ": > \"$1\"", "sh", path]);
        Assert.NotEqual(0, write.ExitCode);
        Assert.Equal(view.VolumeId, (await Volumes.CreateAsync(request)).VolumeId);
    }

    [Fact]
    [Trait("spec", "CreateVolume Errors")]
    public async Task A_volume_smaller_than_its_snapshot_is_OUT_OF_RANGE()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // CreateVolume Errors: "Unsupported capacity | 11 OUT_OF_RANGE | ... for example when
        // trying to create a volume smaller than the source snapshot."
        var source = await Volumes.CreateAsync("restore-big", 2 * VolumeSize);
        var snapshot = await Volumes.SnapshotAsync(source.VolumeId);
        var request = Create(UniqueName("restore-small"), VolumeSize, VolumeSize);
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId },
        };
        await Rpc.FailsWith(StatusCode.OutOfRange, Fx.Controller.CreateVolumeAsync(request));
    }

    [Fact]
    [Trait("spec", "CreateVolume volume_content_source")]
    public async Task A_clone_holds_its_source_volumes_data()
    {
        var source = await Volumes.CreateAsync("clone-src");
        var request = Create(UniqueName("clone"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = source.VolumeId },
        };
        if (!Fx.Advertises(ControllerRpc.CloneVolume))
        {
            // CreateVolume Errors: "Source incompatible or not supported | 3 INVALID_ARGUMENT".
            await Rpc.FailsWith(StatusCode.InvalidArgument, Fx.Controller.CreateVolumeAsync(request));
            return;
        }
        await Storage.WriteAsync(source.VolumeId, "data", "cloned");
        var clone = await Volumes.CreateAsync(request);
        Assert.NotEqual(source.VolumeId, clone.VolumeId);
        Assert.Equal(source.VolumeId, clone.ContentSource?.Volume?.VolumeId);
        Assert.Equal("cloned", await Storage.ReadAsync(clone.VolumeId, "data"));
        // The clone is independent: writing to it leaves the source as it was.
        await Storage.WriteAsync(clone.VolumeId, "data", "changed in the clone");
        Assert.Equal("cloned", await Storage.ReadAsync(source.VolumeId, "data"));
    }

    [Fact]
    [Trait("spec", "DeleteVolume Errors")]
    public async Task Deleting_a_volume_with_snapshots_either_refuses_or_keeps_the_snapshots_usable()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // DeleteVolume Errors: "Volume in use | 9 FAILED_PRECONDITION | ... has snapshots and the
        // plugin doesn't treat them as independent entities." Otherwise the snapshots are
        // independent: they outlive the volume and still restore.
        var source = await Volumes.CreateAsync("snap-src-del");
        await Storage.WriteAsync(source.VolumeId, "kept", "yes");
        var snapshot = await Volumes.SnapshotAsync(source.VolumeId);
        var code = await Rpc.CodeOf(async () =>
            await Fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = source.VolumeId })
        );
        Assert.Contains(code, new[] { StatusCode.OK, StatusCode.FailedPrecondition });
        if (code == StatusCode.FailedPrecondition)
        {
            return;
        }
        if (Fx.Advertises(ControllerRpc.GetVolume))
        {
            await Rpc.FailsWith(
                StatusCode.NotFound,
                Fx.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = source.VolumeId })
            );
        }
        if (Fx.Advertises(ControllerRpc.ListSnapshots))
        {
            var listed = await Fx.Controller.ListSnapshotsAsync(
                new ListSnapshotsRequest { SnapshotId = snapshot.SnapshotId }
            );
            Assert.Single(listed.Entries);
        }
        var request = Create(UniqueName("from-orphan"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId },
        };
        var restored = await Volumes.CreateAsync(request);
        Assert.Equal("yes", await Storage.ReadAsync(restored.VolumeId, "kept"));
    }

    [Fact]
    [Trait("spec", "DeleteSnapshot Errors")]
    public async Task Deleting_a_snapshot_a_volume_was_restored_from_either_refuses_or_leaves_the_volume_intact()
    {
        if (!await RequireSnapshotsAsync())
        {
            return;
        }
        // DeleteSnapshot Errors: "Snapshot in use | 9 FAILED_PRECONDITION"; if it answers OK the
        // restored volume must not lose its data.
        var source = await Volumes.CreateAsync("snap-used");
        await Storage.WriteAsync(source.VolumeId, "f", "restored data");
        var snapshot = await Volumes.SnapshotAsync(source.VolumeId);
        var request = Create(UniqueName("restored-kept"));
        request.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot.SnapshotId },
        };
        var restored = await Volumes.CreateAsync(request);

        var code = await Rpc.CodeOf(async () =>
            await Fx.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot.SnapshotId })
        );
        Assert.Contains(code, new[] { StatusCode.OK, StatusCode.FailedPrecondition });
        Assert.Equal("restored data", await Storage.ReadAsync(restored.VolumeId, "f"));
        if (code == StatusCode.OK && Fx.Advertises(ControllerRpc.ListSnapshots))
        {
            var listed = await Fx.Controller.ListSnapshotsAsync(
                new ListSnapshotsRequest { SnapshotId = snapshot.SnapshotId }
            );
            Assert.Empty(listed.Entries);
        }
    }
}
