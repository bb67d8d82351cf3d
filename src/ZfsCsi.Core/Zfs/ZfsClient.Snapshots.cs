using ZfsCsi.Core.Exec;

namespace ZfsCsi.Core.Zfs;

public sealed partial class ZfsClient
{
    /// <summary>Properties of a dataset and all its descendants and their snapshots, in one zfs process.</summary>
    public async Task<IReadOnlyList<DatasetProperties>> GetRecursiveAsync(
        DatasetName dataset,
        IEnumerable<string> properties,
        CancellationToken ct
    )
    {
        var result = await ZfsAsync(ZfsArgs.GetRecursive(properties, dataset), ct).ConfigureAwait(false);
        return ZfsParser.GroupByDataset(ZfsParser.ParseGet(result.StandardOutput));
    }

    /// <summary>Properties of a dataset and what lies up to <paramref name="depth"/> levels below it (<see cref="ZfsArgs.GetToDepth"/>), in one zfs process.</summary>
    public async Task<IReadOnlyList<DatasetProperties>> GetToDepthAsync(
        DatasetName dataset,
        IEnumerable<string> properties,
        int depth,
        CancellationToken ct
    )
    {
        var result = await ZfsAsync(ZfsArgs.GetToDepth(properties, dataset, depth), ct).ConfigureAwait(false);
        return ZfsParser.GroupByDataset(ZfsParser.ParseGet(result.StandardOutput));
    }

    /// <summary>Properties of named datasets or snapshots in one process; a missing one throws <see cref="DatasetNotFoundException"/>.</summary>
    public async Task<IReadOnlyList<DatasetProperties>> GetNamedAsync(
        IReadOnlyCollection<string> names,
        IEnumerable<string> properties,
        CancellationToken ct
    )
    {
        var result = await ZfsAsync(ZfsArgs.GetNamed(properties, names), ct).ConfigureAwait(false);
        return ZfsParser.GroupByDataset(ZfsParser.ParseGet(result.StandardOutput));
    }

    /// <summary>
    /// Properties of those of the named datasets or snapshots that exist, in one process: zfs prints
    /// every one it can open and names each missing one on stderr. O(1) in what else the pool holds,
    /// where a recursive listing is O(everything under the parent). Any other failure throws.
    /// </summary>
    public async Task<IReadOnlyList<DatasetProperties>> GetExistingAsync(
        IReadOnlyCollection<string> names,
        IEnumerable<string> properties,
        CancellationToken ct
    )
    {
        var command = new CommandLine(options.ZfsCommand, ZfsArgs.GetNamed(properties, names));
        var result = await runner.RunAsync(command, options.CommandTimeout, ct).ConfigureAwait(false);
        if (
            !result.Succeeded
            && (ZfsParser.ParseMissingNames(result.StandardError) is not { } missing || !missing.IsSubsetOf(names))
        )
        {
            throw ZfsErrors.Classify(command, result);
        }
        return ZfsParser.GroupByDataset(ZfsParser.ParseGet(result.StandardOutput));
    }

    /// <summary>A snapshot's properties, or null when it does not exist.</summary>
    public async Task<DatasetProperties?> TryGetAsync(
        SnapshotName snapshot,
        IEnumerable<string> properties,
        CancellationToken ct
    )
    {
        try
        {
            var rows = await GetNamedAsync([snapshot.Value], properties, ct).ConfigureAwait(false);
            return rows.SingleOrDefault(r => r.Name == snapshot.Value);
        }
        catch (DatasetNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Snapshots do not mount, so they do not take the mount lock.</summary>
    public Task SnapshotAsync(
        SnapshotName snapshot,
        IEnumerable<KeyValuePair<string, string>> properties,
        CancellationToken ct
    ) => ZfsAsync(ZfsArgs.Snapshot(snapshot, properties), ct);

    /// <summary>
    /// Several snapshots in one atomic command. False (and nothing made) when this zfs takes one name
    /// per command (zfs-fuse: usage error, "too many arguments"): the caller falls back to -r.
    /// </summary>
    public async Task<bool> TrySnapshotManyAsync(
        IReadOnlyCollection<SnapshotName> snapshots,
        IEnumerable<KeyValuePair<string, string>> properties,
        CancellationToken ct
    )
    {
        try
        {
            await ZfsAsync(ZfsArgs.SnapshotMany(snapshots, properties), ct).ConfigureAwait(false);
            return true;
        }
        catch (CommandFailedException e)
            when (e.ExitCode == 2 && e.StandardError.Contains("too many arguments", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
    }

    public Task SnapshotRecursiveAsync(
        SnapshotName snapshot,
        IEnumerable<KeyValuePair<string, string>> properties,
        CancellationToken ct
    ) => ZfsAsync(ZfsArgs.SnapshotRecursive(snapshot, properties), ct);

    /// <summary>A clone mounts itself: serialized like create.</summary>
    public Task CloneAsync(
        SnapshotName origin,
        DatasetName target,
        IEnumerable<KeyValuePair<string, string>> properties,
        CancellationToken ct
    ) => SerializedAsync(ZfsArgs.Clone(origin, target, properties), ct);

    public Task DestroySnapshotDeferredAsync(SnapshotName snapshot, CancellationToken ct) =>
        RetryBusyAsync(() => SerializedAsync(ZfsArgs.DestroySnapshotDeferred(snapshot), ct), ct);

    public Task DestroySnapshotRecursiveAsync(SnapshotName snapshot, CancellationToken ct) =>
        RetryBusyAsync(() => SerializedAsync(ZfsArgs.DestroySnapshotRecursive(snapshot), ct), ct);

    /// <summary>A rollback remounts a mounted dataset: serialized.</summary>
    public Task RollbackAsync(SnapshotName snapshot, CancellationToken ct) =>
        SerializedAsync(ZfsArgs.Rollback(snapshot), ct);

    public Task SetAsync(SnapshotName snapshot, string property, string value, CancellationToken ct) =>
        ZfsAsync(ZfsArgs.Set(snapshot, property, value), ct);

    public Task RenameSnapshotAsync(SnapshotName from, SnapshotName to, CancellationToken ct) =>
        SerializedAsync(ZfsArgs.RenameSnapshot(from, to), ct);

    /// <summary>
    /// Renames a dataset: mount-causing (zfs remounts what it renames), so serialized, and zfs-fuse's
    /// transient "busy" is retried. zfs-fuse also answers busy for as long as a clone of one of the
    /// dataset's snapshots is mounted (checked on 0.7); OpenZFS renames such a dataset.
    /// </summary>
    public Task RenameAsync(DatasetName from, DatasetName to, CancellationToken ct) =>
        RetryBusyAsync(() => SerializedAsync(ZfsArgs.Rename(from, to), ct), ct);

    /// <summary>
    /// Unmounts (retrying zfs-fuse's transient "busy"); an already unmounted dataset is fine.
    /// Returns whether this call unmounted it.
    /// </summary>
    public async Task<bool> UnmountAsync(DatasetName dataset, CancellationToken ct)
    {
        var unmounted = false;
        await RetryBusyAsync(
                async () =>
                {
                    try
                    {
                        await SerializedAsync(ZfsArgs.Unmount(dataset), ct).ConfigureAwait(false);
                        unmounted = true;
                    }
                    catch (CommandFailedException e)
                        when (e.StandardError.Contains("not currently mounted", StringComparison.OrdinalIgnoreCase))
                    {
                        // Already unmounted (a retry, or canmount=off): nothing to do.
                    }
                },
                ct
            )
            .ConfigureAwait(false);
        return unmounted;
    }
}
