using Serilog;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap.Pool;

/// <summary>
/// What <see cref="KeyLoader.LoadAsync"/> found and did: the encryption roots whose keys it loaded,
/// the datasets that can be mounted now (theirs, and those of keys loaded earlier but never
/// mounted), the datasets still locked, and one line per key that did not load (the volume, the
/// file, zfs's words; never the key).
/// </summary>
public sealed record KeyOutcome(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> ToMount,
    IReadOnlySet<string> StillLocked,
    IReadOnlyList<string> Failures
)
{
    public static KeyOutcome Nothing { get; } = new([], [], new HashSet<string>(), []);
}

/// <summary>
/// Loads the keys of the driver's encrypted volumes after an import: <c>zpool import</c> without
/// -l loads none, so their datasets stay unmounted and unreadable until <c>zfs load-key</c> (the
/// failure zfs-localpv #300's users met after a reboot). The driver's volumes are the encryption
/// roots whose keylocation names a file in <see cref="BootstrapOptions.KeyDirectory"/> (the
/// controller writes one per encrypted volume, <see cref="KeyStore"/>); other encrypted datasets
/// of the pool (a user's own, keylocation=prompt) are not this bootstrap's to unlock. A clone or a
/// view of an encrypted volume shares its origin's root (zfs-clone(8)), so it unlocks with it.
/// A pool without encrypted datasets costs one <c>zpool get</c> per check; zfs-fuse (--module none) nothing.
/// </summary>
public sealed class KeyLoader(ICommandRunner runner, BootstrapOptions options, ILogger logger)
{
    private readonly ILogger _log = logger.ForContext<KeyLoader>();
    private readonly KeyStore _store = new(options.KeyDirectory);

    private List<KeyRow> Ours(IReadOnlyList<KeyRow> rows) =>
        [.. rows.Where(r => r.IsEncryptionRoot && KeyStore.PathOf(r.KeyLocation) is { } p && _store.Holds(p))];

    /// <summary>Whether this host can have encrypted volumes at all: not zfs-fuse (--module none; pool version 23, no feature flags).</summary>
    public bool Applies => options.Module != ModuleMode.None;

    /// <summary>
    /// The pool's filesystems with their key state (one <c>zfs list</c>), or null when the pool's
    /// <c>encryption</c> feature is not <c>active</c> (zpool-features(7): active while any encrypted
    /// dataset exists), or when the pool has no feature flags at all (zfs-fuse): then nothing is
    /// encrypted and no zfs command runs. Asked of the pool, not of the key directory, so a volume
    /// whose key file (or the whole directory) is gone is still found, and named.
    /// </summary>
    public async Task<IReadOnlyList<KeyRow>?> ListAsync(CancellationToken ct)
    {
        var pool = DatasetName.Parse(options.Pool);
        var feature = await RunAsync(
                new CommandLine(options.ZpoolCommand, ZfsArgs.PoolFeature(pool, "encryption")),
                "zpool get",
                ct
            )
            .ConfigureAwait(false);
        if (!feature.Succeeded || ZfsParser.ParseFeatureState(feature.StandardOutput) != "active")
        {
            return null;
        }
        var list = new CommandLine(options.ZfsCommand, ZfsArgs.ListKeys(pool));
        var listed = await RunAsync(list, "zfs list", ct).ConfigureAwait(false);
        if (!listed.Succeeded)
        {
            throw new BootstrapException(
                "zfs list",
                $"{list} exited {listed.ExitCode}: {listed.StandardError.Trim()} (listing the encrypted volumes whose keys are in {options.KeyDirectory})",
                retryable: true
            );
        }
        return ZfsParser.ParseKeyRows(listed.StandardOutput);
    }

    private async Task<CommandResult> RunAsync(CommandLine command, string step, CancellationToken ct)
    {
        try
        {
            return await runner.RunAsync(command, options.CommandTimeout, ct).ConfigureAwait(false);
        }
        catch (CommandTimeoutException e)
        {
            throw new BootstrapException(step, e.Message, retryable: true, e);
        }
    }

    /// <summary>The driver's encryption roots among <paramref name="rows"/> whose key is not loaded.</summary>
    public IReadOnlyList<KeyRow> Locked(IReadOnlyList<KeyRow> rows) => [.. Ours(rows).Where(r => r.KeyUnavailable)];

    /// <summary>
    /// Loads every locked key of <paramref name="rows"/> (one <c>zfs load-key</c> each, from the
    /// file its keylocation names) and says what can be mounted now.
    /// </summary>
    public async Task<KeyOutcome> LoadAsync(IReadOnlyList<KeyRow> rows, CancellationToken ct)
    {
        var ours = Ours(rows);
        // A locked root whose key file has our name's shape but lies outside --key-dir: most likely
        // the directory was moved or its flag changed since the volume was made. Not this run's to
        // load (the file is the operator's to put back or the flag theirs to restore), but said.
        foreach (
            var elsewhere in rows.Where(r =>
                r.IsEncryptionRoot
                && r.KeyUnavailable
                && KeyStore.PathOf(r.KeyLocation) is { } p
                && !_store.Holds(p)
                && KeyStore.LeafOf(Path.GetFileName(p)) is not null
            )
        )
        {
            _log.Warning(
                "Encrypted {Dataset} stays locked: its keylocation {KeyLocation} is a zfs-csi key file outside --key-dir {KeyDirectory} (was --key-dir moved or changed since it was made?)",
                elsewhere.Name,
                elsewhere.KeyLocation,
                options.KeyDirectory
            );
        }
        var loaded = new List<string>();
        var failures = new List<string>();
        var locked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in ours.Where(r => r.KeyUnavailable))
        {
            if (await TryLoadAsync(root, failures, ct).ConfigureAwait(false))
            {
                loaded.Add(root.Name);
            }
            else
            {
                locked.Add(root.Name);
            }
        }
        var unlocked = ours.Select(r => r.Name).Where(n => !locked.Contains(n)).ToHashSet(StringComparer.Ordinal);
        var toMount = rows.Where(r =>
                unlocked.Contains(r.EncryptionRoot)
                && r.CanMount
                && !r.Mounted
                && r.Mountpoint.StartsWith('/')
                && InScope(r.Mountpoint)
            )
            // Parents first, as zfs mount -a orders them.
            .OrderBy(r => r.Mountpoint.Count(c => c == '/'))
            .ThenBy(r => r.Mountpoint, StringComparer.Ordinal)
            .Select(r => r.Name)
            .ToList();
        var stillLocked = rows.Where(r => locked.Contains(r.EncryptionRoot))
            .Select(r => r.Name)
            .ToHashSet(StringComparer.Ordinal);
        if (loaded.Count > 0)
        {
            _log.Information(
                "Loaded the keys of {Count} encrypted volume(s) of pool {Pool} from {KeyDirectory}",
                loaded.Count,
                options.Pool,
                options.KeyDirectory
            );
        }
        return new KeyOutcome(loaded, toMount, stillLocked, failures);
    }

    /// <summary>
    /// Which unlocked datasets are this process's to mount: every one after a plain import (its
    /// namespace is where the import mounted), those under --import-mount DIR, none with
    /// --import-mount none (the host mounts, e.g. zfs mount -a, once the keys are loaded).
    /// </summary>
    private bool InScope(string mountpoint) =>
        options.ImportMount switch
        {
            ImportMount.All => true,
            ImportMount.Under => mountpoint == options.MountUnder.TrimEnd('/')
                || mountpoint.StartsWith(options.MountUnder.TrimEnd('/') + "/", StringComparison.Ordinal),
            _ => false,
        };

    private async Task<bool> TryLoadAsync(KeyRow root, List<string> failures, CancellationToken ct)
    {
        var path = KeyStore.PathOf(root.KeyLocation)!;
        if (!File.Exists(path))
        {
            // Said before zfs would say "Failed to open key material file": the fix is the operator's.
            failures.Add(
                $"{root.Name}: its key file {path} is missing (restore {options.KeyDirectory} from its backup; without the key the volume's data cannot be read)"
            );
            return false;
        }
        var command = new CommandLine(options.ZfsCommand, ZfsArgs.LoadKey(root.Name));
        CommandResult result;
        try
        {
            result = await runner.RunAsync(command, options.CommandTimeout, ct).ConfigureAwait(false);
        }
        catch (CommandTimeoutException e)
        {
            failures.Add($"{root.Name}: {e.Message}");
            return false;
        }
        if (result.Succeeded)
        {
            return true;
        }
        var stderr = result.StandardError.Trim();
        // "Key load error: Incorrect key provided for 'data/k8s/pvc-…'." when the file holds another key.
        failures.Add(
            $"{root.Name}: zfs load-key exited {result.ExitCode}: {stderr} (key file {path}; a key file replaced or damaged since the volume was made cannot unlock it)"
        );
        return false;
    }
}
