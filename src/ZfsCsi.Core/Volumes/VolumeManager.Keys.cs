using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>
    /// Removes the key files (<see cref="KeyStore"/>) of <see cref="Parent"/>'s volumes that no
    /// dataset under the parent names in its keylocation any more: the volume was destroyed, or a
    /// crash came between writing the file and its <c>zfs create</c>. Only <paramref name="leaf"/>'s
    /// files when given (DeleteVolume, under that volume's lock, right after its destroy); with
    /// <paramref name="olderThan"/> only files older than that (the sweep, which holds no lock: a
    /// create of that name may be between writing its file and its create). No file, no zfs command:
    /// a zfs-fuse host, which never has encrypted volumes, never reads keylocation, a property it lacks.
    /// Encryption roots are the parent's children (volumes, and volumes kept for their snapshots under
    /// another name, which still name their file, so it stays); a clone has no keylocation of its own
    /// (zfsprops(7): only an encryption root's is set), it uses its origin's.
    /// Never throws for a file or a listing it cannot read: the next sweep tries again.
    /// </summary>
    private async Task RemoveUnreferencedKeysAsync(string? leaf, TimeSpan? olderThan, CancellationToken ct)
    {
        try
        {
            var files = options.Keys.List(Parent, leaf);
            if (files.Count == 0)
            {
                return;
            }
            var rows = await zfs.GetChildrenAsync(Parent, ["keylocation"], ct).ConfigureAwait(false);
            var named = rows.Select(r => KeyStore.PathOf(r.Value("keylocation")))
                .OfType<string>()
                .ToHashSet(StringComparer.Ordinal);
            var now = _clock.GetUtcNow();
            foreach (var (path, written) in files)
            {
                if (named.Contains(path) || (olderThan is { } age && now - written < age))
                {
                    continue;
                }
                KeyStore.Remove(path);
                _log.Information(
                    "Removed key file {KeyFile}: no dataset under {ParentDataset} uses it",
                    path,
                    Parent.Value
                );
            }
        }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or ZfsCsiException && !ct.IsCancellationRequested)
        {
            _log.Warning(
                "Could not remove unused key files under {KeyDirectory}: {Reason} (the next sweep tries again)",
                options.Keys.DirectoryFor(Parent),
                e.Message
            );
        }
    }

    /// <summary>
    /// The key file <paramref name="dataset"/>'s keylocation names, or null: not encrypted, not one
    /// of our key files, unreadable, or no key file under the parent at all (then no zfs command,
    /// so never on zfs-fuse, which has no keylocation property).
    /// </summary>
    private async Task<string?> KeyFileOfAsync(DatasetName dataset, CancellationToken ct)
    {
        try
        {
            if (options.Keys.List(Parent).Count == 0)
            {
                return null;
            }
            var props = await zfs.TryGetAsync(dataset, ["keylocation"], ct).ConfigureAwait(false);
            return KeyStore.PathOf(props?.Value("keylocation")) is { } path && options.Keys.Holds(path) ? path : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ZfsCsiException)
        {
            return null; // The grace-bound cleanup of unused files takes it later.
        }
    }

    /// <summary>Removes the key file of an encryption root just destroyed; one that cannot go is left to the grace-bound cleanup.</summary>
    private void RemoveKeyFileOfDestroyed(string path, DatasetName dataset)
    {
        try
        {
            KeyStore.Remove(path);
            _log.Information("Removed key file {KeyFile} of destroyed {Dataset}", path, dataset.Value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning(
                "Cannot remove key file {KeyFile} of destroyed {Dataset}: {Reason}",
                path,
                dataset.Value,
                e.Message
            );
        }
    }
}
