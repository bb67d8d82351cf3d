using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>
    /// Removes the key files (<see cref="KeyStore"/>) of <see cref="Parent"/>'s volumes that no
    /// dataset under the parent names in its keylocation any more: the volume was destroyed, or a
    /// crash came between writing the file and its <c>zfs create</c>. Only <paramref name="leaf"/>'s
    /// files when given (DeleteVolume, under that volume's lock, right after its destroy). With
    /// <paramref name="olderThan"/> (the sweep): only files older than that, each under its volume
    /// name's lock, taken without waiting (a CreateVolume of that name holds it from writing its file
    /// until its <c>zfs create</c> returns, however long that takes or however the clock moves), and
    /// also the temporary files a crash left mid-write.
    /// Nothing is removed, and an error logged, while a dataset names a key file of ours by its
    /// shape (<c>LEAF.XXXXXXXX.key</c>) that is not one of the store's files: --key-dir changed,
    /// moved or spelled another way (a symlink, <c>//</c>) since the volumes were made; every file
    /// would look unused then, and removing them would lose those volumes at their next reboot.
    /// No file, no zfs command: a zfs-fuse host, which never has encrypted volumes, never reads
    /// keylocation, a property it lacks. Encryption roots are the parent's children (volumes, and
    /// volumes kept for their snapshots under another name, which still name their file, so it
    /// stays); a clone has no keylocation of its own (zfsprops(7): only an encryption root's is set).
    /// Never throws for a file or a listing it cannot read: the next sweep tries again.
    /// </summary>
    private async Task RemoveUnreferencedKeysAsync(string? leaf, TimeSpan? olderThan, CancellationToken ct)
    {
        try
        {
            var all = options.Keys.List(Parent);
            IReadOnlyList<(string Path, DateTimeOffset Written)> temporary = olderThan is null
                ? []
                : options.Keys.ListTemporary(Parent);
            var files = leaf is null ? all : [.. all.Where(f => KeyStore.LeafOf(Path.GetFileName(f.Path)) == leaf)];
            if (files.Count == 0 && temporary.Count == 0)
            {
                return;
            }
            var rows = await zfs.GetChildrenAsync(Parent, ["keylocation"], ct).ConfigureAwait(false);
            var named = rows.Select(r => (r.Name, Path: KeyStore.PathOf(r.Value("keylocation"))))
                .Where(r => r.Path is not null && KeyStore.LeafOf(Path.GetFileName(r.Path)) is not null)
                .ToList();
            // Listed again after the zfs get: a create writes its file before its dataset names it,
            // so every file of the store a dataset in that listing names is in this one.
            var listed = options.Keys.List(Parent).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
            if (named.FirstOrDefault(n => !listed.Contains(n.Path!)) is { Path: { } stray } strayRow)
            {
                _log.Error(
                    "Not removing any key file under {KeyDirectory}: {Dataset}'s keylocation names {KeyFile}, which is not a key file there (was --key-dir changed, moved or spelled another way since the volume was made, or the file removed by hand?)",
                    options.Keys.DirectoryFor(Parent),
                    strayRow.Name,
                    stray
                );
                return;
            }
            var used = named.Select(n => n.Path!).ToHashSet(StringComparer.Ordinal);
            var now = _clock.GetUtcNow();
            foreach (var (path, written) in files.Concat(temporary))
            {
                if (used.Contains(path) || (olderThan is { } age && now - written < age))
                {
                    continue;
                }
                var name = Path.GetFileName(path);
                var fileLeaf = KeyStore.LeafOf(name.StartsWith('.') ? name[1..^".tmp".Length] : name)!;
                using var held = olderThan is null ? null : locks.TryAcquire($"{Parent.Value}/{fileLeaf}");
                if (olderThan is not null && held is null)
                {
                    continue; // an operation on that name is running: the next sweep looks again
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
    /// The key file <paramref name="dataset"/>'s keylocation names, or null: not encrypted, not a
    /// file this store wrote for it (<see cref="KeyStore.WroteFor"/>; a kept volume's file keeps its first name), unreadable, or no key file under the parent at all (then no zfs command,
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
            return
                KeyStore.PathOf(props?.Value("keylocation")) is { } path
                && CsiVolumeOf(dataset.Value) is { } volume
                && options.Keys.WroteFor(path, Parent, volume.Dataset.Leaf)
                ? path
                : null;
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
