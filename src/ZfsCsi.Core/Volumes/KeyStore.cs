using System.Security.Cryptography;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// Where encrypted volumes' keys live at rest: files on the storage host's root disk, under
/// <c>--key-dir</c> (README, "Encryption"), one per encryption root, named by the dataset's path
/// and a random part (<c>KEYDIR/data/k8s/pvc-….1a2b3c4d.key</c>). The random part keeps a key
/// of a deleted volume kept for its snapshots (moved aside under another name, its keylocation
/// unchanged) apart from the key of a new volume of the same name. ZFS reads a key through the
/// dataset's <c>keylocation=file://PATH</c> (zfsprops(7)): the property holds the path, never the key.
/// Directories 0700 and files 0600 (root only), written whole or not at all: a temporary file,
/// fsync, rename, fsync of the directory, so a crash never leaves a half-written key that a later
/// load-key would refuse, nor a volume made after a key file that a power cut then took back.
/// </summary>
public sealed class KeyStore(string directory)
{
    public const string Suffix = ".key";

    private const UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode KeyFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The configured directory (absolute).</summary>
    public string Directory { get; } = directory;

    /// <summary>The directory of one parent dataset's keys.</summary>
    public string DirectoryFor(DatasetName parent) => Path.Combine(Directory, parent.Value);

    /// <summary>The keylocation value for a key file.</summary>
    public static string KeyLocation(string path) => "file://" + path;

    /// <summary>The path of a file:// keylocation, or null for any other (prompt, https://, none).</summary>
    public static string? PathOf(string? keyLocation) =>
        keyLocation is not null && keyLocation.StartsWith("file://", StringComparison.Ordinal)
            ? keyLocation["file://".Length..]
            : null;

    /// <summary>
    /// Writes a new key file for <paramref name="dataset"/> and returns its path. The caller creates
    /// the dataset with it next and removes it when the create fails.
    /// </summary>
    public string Write(DatasetName dataset, EncryptionKey key)
    {
        var parent = DatasetName.Parse(dataset.Value[..dataset.Value.LastIndexOf('/')]);
        var dir = DirectoryFor(parent);
        try
        {
            CreatePrivateDirectories(dir);
            var name =
                $"{dataset.Value[(dataset.Value.LastIndexOf('/') + 1)..]}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}{Suffix}";
            var path = Path.Combine(dir, name);
            var temp = Path.Combine(dir, "." + name + ".tmp");
            using (
                var stream = new FileStream(
                    temp,
                    new FileStreamOptions
                    {
                        Mode = System.IO.FileMode.CreateNew,
                        Access = FileAccess.Write,
                        UnixCreateMode = KeyFileMode,
                    }
                )
            )
            {
                stream.Write(key.Material);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path);
            // The rename is durable only once the directory is: without this a power cut right
            // after the zfs create that names the file could leave a volume whose key file is gone.
            SyncDirectory(dir);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The message names the directory, never the key.
            throw new FailedPreconditionException(
                $"cannot write the key file of {dataset} under {dir}: {e.Message} (check --key-dir; nothing was made)"
            );
        }
    }

    /// <summary>Removes a key file (gone already: fine).</summary>
    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException) { }
    }

    /// <summary>
    /// The key files of <paramref name="parent"/>'s volumes, with their last write time; only those
    /// of the volume with leaf <paramref name="leaf"/> when given (exactly <c>LEAF.XXXXXXXX.key</c>:
    /// a leaf may hold dots, so <c>a.*.key</c> would also match volume <c>a.b</c>'s files).
    /// Temporary files are not listed (<see cref="ListTemporary"/>).
    /// </summary>
    public IReadOnlyList<(string Path, DateTimeOffset Written)> List(DatasetName parent, string? leaf = null) =>
        Files(parent, p => LeafOf(Path.GetFileName(p)) is { } l && (leaf is null || l == leaf));

    /// <summary>
    /// Temporary files a crash left between writing a key and renaming it into place (<see
    /// cref="Write"/>): no dataset can name one, and each holds a whole key.
    /// </summary>
    public IReadOnlyList<(string Path, DateTimeOffset Written)> ListTemporary(DatasetName parent) =>
        Files(parent, p =>
            Path.GetFileName(p) is var n
            && n.StartsWith('.')
            && n.EndsWith(Suffix + ".tmp", StringComparison.Ordinal)
            && LeafOf(n[1..^".tmp".Length]) is not null
        );

    /// <summary>The volume leaf a key file's name <c>LEAF.XXXXXXXX.key</c> is for; null for any other name.</summary>
    public static string? LeafOf(string fileName)
    {
        // LEAF + "." + 8 lowercase hex digits + ".key"
        const int tail = 1 + 8 + 4;
        if (fileName.Length <= tail || fileName.StartsWith('.') || !fileName.EndsWith(Suffix, StringComparison.Ordinal))
        {
            return null;
        }
        var random = fileName.AsSpan(fileName.Length - tail + 1, 8);
        return
            fileName[fileName.Length - tail] == '.'
            && random.ToString().All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c))
            ? fileName[..(fileName.Length - tail)]
            : null;
    }

    private IReadOnlyList<(string Path, DateTimeOffset Written)> Files(DatasetName parent, Func<string, bool> wanted)
    {
        var dir = DirectoryFor(parent);
        if (!System.IO.Directory.Exists(dir))
        {
            return [];
        }
        return
        [
            .. System
                .IO.Directory.EnumerateFiles(dir)
                .Where(wanted)
                .Select(p => (p, new DateTimeOffset(File.GetLastWriteTimeUtc(p), TimeSpan.Zero)))
                .Order(),
        ];
    }

    /// <summary>Whether <paramref name="path"/> is a key file of this store: below <see cref="Directory"/>, with the key suffix.</summary>
    public bool Holds(string path) =>
        path.StartsWith(Directory.TrimEnd('/') + "/", StringComparison.Ordinal)
        && path.EndsWith(Suffix, StringComparison.Ordinal)
        && !path.Contains("/../", StringComparison.Ordinal);

    /// <summary>
    /// Whether <paramref name="path"/> is the kind of file this store writes (<see cref="Write"/>)
    /// for volume <paramref name="leaf"/> of <paramref name="parent"/>: in that parent's directory,
    /// spelled canonically, named <c>LEAF.XXXXXXXX.key</c> with that leaf. Only such a file goes
    /// with its volume: a keylocation set by hand to another file (one key shared by several
    /// datasets, another volume's key file) is left alone, as the grace-bound cleanup leaves it.
    /// </summary>
    public bool WroteFor(string path, DatasetName parent, string leaf) =>
        Holds(path)
        && Path.GetFullPath(path) == path
        && Path.GetDirectoryName(path) == DirectoryFor(parent)
        && LeafOf(Path.GetFileName(path)) == leaf;

    private static void SyncDirectory(string dir)
    {
        var fd = Mount.Native.OpenAt(
            Mount.Native.AtFdcwd,
            dir,
            Mount.Native.ORdonly | Mount.Native.ODirectory | Mount.Native.OCloexec,
            0
        );
        if (fd < 0)
        {
            throw new IOException($"cannot open {dir} to sync it: errno {Mount.Native.LastErrno}");
        }
        try
        {
            if (Mount.Native.Fsync(fd) != 0)
            {
                throw new IOException($"cannot sync {dir}: errno {Mount.Native.LastErrno}");
            }
        }
        finally
        {
            Mount.Native.Close(fd);
        }
    }

    /// <summary>
    /// Every missing directory from <see cref="Directory"/> down is made 0700 (never wider: umask
    /// only narrows), and the directory it was made in is synced: the fsync of a key's directory
    /// after its rename makes the key's name durable, not the directory's own name in its parent
    /// (fsync(2)), so without it a power cut could lose a new parent's directory with its first key.
    /// </summary>
    private void CreatePrivateDirectories(string dir)
    {
        var current = Directory.TrimEnd('/');
        var parts = Path.GetRelativePath(current, dir).Split('/', StringSplitOptions.RemoveEmptyEntries);
        CreateDurably(current);
        // A directory made by hand (or by an older install) with wider permissions is narrowed.
        File.SetUnixFileMode(current, DirectoryMode);
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            CreateDurably(current);
        }
    }

    private static void CreateDurably(string dir)
    {
        if (System.IO.Directory.Exists(dir))
        {
            return;
        }
        if (Path.GetDirectoryName(dir) is { Length: > 0 } parent && !System.IO.Directory.Exists(parent))
        {
            CreateDurably(parent);
        }
        System.IO.Directory.CreateDirectory(dir, DirectoryMode);
        SyncDirectory(Path.GetDirectoryName(dir) is { Length: > 0 } made ? made : "/");
    }
}
