using System.Runtime.CompilerServices;
using ZfsCsi.Core.Exec;

namespace ZfsCsi.Core.Zfs;

/// <summary>
/// The zfs and zpool commands the driver uses, on an <see cref="ICommandRunner"/>. Argv comes from
/// <see cref="ZfsArgs"/>, output goes through <see cref="ZfsParser"/>, failures through
/// <see cref="ZfsErrors"/>. Mount-causing commands go through the <see cref="MountSerializer"/>.
/// </summary>
public sealed partial class ZfsClient(ICommandRunner runner, ZfsOptions options, MountSerializer mounts)
{
    /// <summary>Properties of the given datasets; a missing dataset throws <see cref="DatasetNotFoundException"/>.</summary>
    public async Task<IReadOnlyList<DatasetProperties>> GetAsync(
        IReadOnlyCollection<DatasetName> datasets,
        IEnumerable<string> properties,
        CancellationToken ct
    )
    {
        var result = await ZfsAsync(ZfsArgs.Get(properties, datasets), ct).ConfigureAwait(false);
        return ZfsParser.GroupByDataset(ZfsParser.ParseGet(result.StandardOutput));
    }

    /// <summary>Properties of one dataset, or null when it does not exist.</summary>
    public async Task<DatasetProperties?> TryGetAsync(
        DatasetName dataset,
        IEnumerable<string> properties,
        CancellationToken ct
    )
    {
        try
        {
            var rows = await GetAsync([dataset], properties, ct).ConfigureAwait(false);
            return rows.SingleOrDefault(r => r.Name == dataset.Value);
        }
        catch (DatasetNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Properties of every direct child filesystem of <paramref name="parent"/>, in one zfs process.</summary>
    public async Task<IReadOnlyList<DatasetProperties>> GetChildrenAsync(
        DatasetName parent,
        IEnumerable<string> properties,
        CancellationToken ct
    )
    {
        var result = await ZfsAsync(ZfsArgs.GetChildren(properties, parent), ct).ConfigureAwait(false);
        return ZfsParser
            .GroupByDataset(ZfsParser.ParseGet(result.StandardOutput))
            .Where(d => !d.IsSnapshot && d.Name != parent.Value)
            .ToList();
    }

    public Task CreateAsync(
        DatasetName dataset,
        IEnumerable<KeyValuePair<string, string>> properties,
        CancellationToken ct
    ) => SerializedAsync(ZfsArgs.Create(dataset, properties), ct);

    /// <summary>Creates a dataset and its missing ancestors; succeeds when it already exists.</summary>
    public Task CreateWithParentsAsync(DatasetName dataset, CancellationToken ct) =>
        SerializedAsync(ZfsArgs.CreateWithParents(dataset), ct);

    public Task SetAsync(DatasetName dataset, string property, string value, CancellationToken ct) =>
        ZfsAsync(ZfsArgs.Set(dataset, property, value), ct);

    /// <summary>
    /// Properties that are mount options: a <c>zfs set</c> of one remounts a mounted dataset on OpenZFS
    /// (libzfs's namespace properties), so such a set takes the mount lock like a mount.
    /// </summary>
    private static readonly HashSet<string> MountOptionProperties = new(StringComparer.Ordinal)
    {
        "atime",
        "relatime",
        "devices",
        "exec",
        "setuid",
        "readonly",
        "xattr",
        "nbmand",
    };

    /// <summary>null: not tried yet; true: this zfs takes several properties per set (OpenZFS); false: one (zfs-fuse).</summary>
    private volatile StrongBox<bool>? _setsMany;

    /// <summary>
    /// Sets several properties, in one <c>zfs set</c> where this zfs takes several (OpenZFS), else one
    /// per <c>zfs set</c> in the given order (zfs-fuse). Found out by trying once: zfs-fuse sets the first
    /// pair and names the second as a dataset it cannot open; the sets that follow set that one again,
    /// which changes nothing. Not atomic on zfs-fuse: a failure leaves the earlier properties set, and
    /// callers make a retry converge.
    /// </summary>
    public async Task SetManyAsync(
        DatasetName dataset,
        IReadOnlyList<KeyValuePair<string, string>> properties,
        CancellationToken ct
    )
    {
        if (properties.Count == 0)
        {
            return;
        }
        var serialized = properties.Any(p => MountOptionProperties.Contains(p.Key));
        Task<CommandResult> Run(string[] args) => serialized ? SerializedAsync(args, ct) : ZfsAsync(args, ct);
        if (properties.Count > 1 && _setsMany?.Value != false)
        {
            try
            {
                await Run(ZfsArgs.SetMany(dataset, properties)).ConfigureAwait(false);
                _setsMany = new StrongBox<bool>(true);
                return;
            }
            catch (CommandFailedException e) when (_setsMany is null && IsOnePairOnly(e, properties))
            {
                _setsMany = new StrongBox<bool>(false);
            }
        }
        foreach (var (property, value) in properties)
        {
            await Run(ZfsArgs.Set(dataset, property, value)).ConfigureAwait(false);
        }
    }

    /// <summary>zfs-fuse's answer to a second pair: "cannot open 'b=2': invalid dataset name".</summary>
    private static bool IsOnePairOnly(
        CommandFailedException e,
        IReadOnlyList<KeyValuePair<string, string>> properties
    ) =>
        e.StandardError.Contains(
            $"cannot open '{properties[1].Key}={properties[1].Value}': invalid dataset name",
            StringComparison.OrdinalIgnoreCase
        );

    /// <summary>zfs-fuse calls a just-created dataset's mountpoint busy for a moment (seen at 1,000 volumes): busy is retried a few times.</summary>
    public Task MountAsync(DatasetName dataset, CancellationToken ct) =>
        RetryBusyAsync(() => SerializedAsync(ZfsArgs.Mount(dataset), ct), ct);

    /// <summary>
    /// Unmounts, then destroys the dataset with its snapshots (<c>destroy -r</c>; zfs refuses, destroying
    /// nothing, while a snapshot has clones). zfs-fuse answers "dataset is busy" for a moment after any
    /// mount, so both steps retry busy a few times; a dataset that stays busy is really in use. When
    /// the destroy is refused after the unmount, the dataset is mounted again (best effort): an
    /// unmounted volume's directory belongs to the parent, and writes there would land in the wrong
    /// dataset (docs/zfs.md, "Mounts and the mount lock").
    /// </summary>
    public async Task DestroyAsync(DatasetName dataset, CancellationToken ct)
    {
        var wasMounted = await UnmountAsync(dataset, ct).ConfigureAwait(false);
        try
        {
            await RetryBusyAsync(() => SerializedAsync(ZfsArgs.DestroyRecursive(dataset), ct), ct)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (wasMounted && e is not DatasetNotFoundException)
        {
            // Whatever stopped the destroy (refused, timed out, the mount lock not free, the RPC
            // cancelled), the dataset must not stay unmounted: the remount runs on its own
            // token, bounded by the command timeout, not on the caller's that may be cancelled.
            try
            {
                await MountAsync(dataset, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Errors.ZfsCsiException)
            {
                // The destroy's error is the one the caller needs; a failed remount shows in the log.
            }
            throw;
        }
    }

    /// <summary>Health of every imported pool, by name (ONLINE, DEGRADED, FAULTED, ...), from <c>zpool list -H -o name,health</c>.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetPoolHealthAsync(CancellationToken ct)
    {
        var result = await RunAsync(new CommandLine(options.ZpoolCommand, ZfsArgs.PoolHealth()), ct)
            .ConfigureAwait(false);
        return ZfsParser.ParsePoolHealth(result.StandardOutput);
    }

    private async Task RetryBusyAsync(Func<Task> action, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await action().ConfigureAwait(false);
                return;
            }
            catch (DatasetBusyException) when (attempt < options.BusyAttempts)
            {
                await Task.Delay(options.BusyRetryDelay, ct).ConfigureAwait(false);
            }
        }
    }

    private Task<CommandResult> SerializedAsync(string[] args, CancellationToken ct) =>
        mounts.RunAsync(() => ZfsAsync(args, ct), ct);

    private Task<CommandResult> ZfsAsync(string[] args, CancellationToken ct) =>
        RunAsync(new CommandLine(options.ZfsCommand, args), ct);

    private async Task<CommandResult> RunAsync(CommandLine command, CancellationToken ct)
    {
        var result = await runner.RunAsync(command, options.CommandTimeout, ct).ConfigureAwait(false);
        return result.Succeeded ? result : throw ZfsErrors.Classify(command, result);
    }
}
