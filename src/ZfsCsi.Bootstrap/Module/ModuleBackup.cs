namespace ZfsCsi.Bootstrap.Module;

/// <summary>
/// A copy of the OpenZFS module files installed for one kernel, taken before <c>make install</c>
/// and put back when it fails, so a failed install leaves exactly the module that worked before
/// (or none, when there was none). It replaces <c>make uninstall</c>, which deletes the modules of
/// that kernel outright (module/Makefile.in modules_uninstall: rm -R extra/{avl,icp,lua,nvpair,spl,
/// unicode,zcommon,zfs}) and, from the top of the tree, the userland tools too: on a host whose
/// /home lives on the pool that turns a failed rebuild into a machine that cannot mount it.
/// </summary>
/// <remarks>
/// OpenZFS installs under /lib/modules/&lt;release&gt;/extra (INSTALL_MOD_DIR): one directory per
/// module up to 2.1 (extra/zfs/zfs.ko, extra/spl/spl.ko, ...), the .ko files directly in extra
/// since. The copy lives in &lt;modules dir&gt;/.zfs-csi-backup/&lt;release&gt;, outside every
/// release directory, so depmod never indexes it. It exists only between the copy and the end of
/// the install: one still there at the next start means an install was interrupted, and is restored.
/// </remarks>
public sealed class ModuleBackup
{
    /// <summary>The directories (up to 2.1) and module names (any layout) that OpenZFS installs into extra.</summary>
    private static readonly HashSet<string> Directories =
    [
        "avl",
        "icp",
        "lua",
        "nvpair",
        "spl",
        "unicode",
        "zcommon",
        "zfs",
        "zstd",
    ];
    private static readonly HashSet<string> Modules =
    [
        "spl",
        "zfs",
        "zavl",
        "icp",
        "zlua",
        "znvpair",
        "zunicode",
        "zcommon",
        "zzstd",
    ];

    private ModuleBackup(string extra, string copy, int files)
    {
        Extra = extra;
        Copy = copy;
        Files = files;
    }

    /// <summary>/lib/modules/&lt;release&gt;/extra.</summary>
    public string Extra { get; }

    /// <summary>Where the copy is.</summary>
    public string Copy { get; }

    /// <summary>How many files were copied (0: no module was installed for this kernel).</summary>
    public int Files { get; }

    public static string CopyDirectory(string modulesDirectory, string release) =>
        Path.Combine(modulesDirectory, ".zfs-csi-backup", release);

    public static bool Exists(string modulesDirectory, string release) =>
        Directory.Exists(CopyDirectory(modulesDirectory, release));

    /// <summary>
    /// Copies the zfs module files installed for <paramref name="release"/>. A copy that already
    /// exists is kept as it is and returned: it is only ever left by an install that did not finish
    /// or whose restore failed, so it is the last module known to work, and extra may now hold a
    /// half-installed or half-restored one that must never replace it.
    /// </summary>
    public static ModuleBackup Take(string modulesDirectory, string release)
    {
        if (Find(modulesDirectory, release) is { } kept)
        {
            return kept;
        }
        var extra = Path.Combine(modulesDirectory, release, "extra");
        var copy = CopyDirectory(modulesDirectory, release);
        // Written under a temporary name and renamed: a copy that exists is always complete.
        var partial = copy + ".partial";
        if (Directory.Exists(partial))
        {
            Directory.Delete(partial, recursive: true);
        }
        Directory.CreateDirectory(partial);
        var files = 0;
        foreach (var entry in ZfsEntries(extra))
        {
            files += CopyEntry(entry, Path.Combine(partial, Path.GetFileName(entry)));
        }
        Directory.Move(partial, copy);
        return new ModuleBackup(extra, copy, files);
    }

    /// <summary>The copy left by an install that never finished, or null.</summary>
    public static ModuleBackup? Find(string modulesDirectory, string release)
    {
        var copy = CopyDirectory(modulesDirectory, release);
        return Directory.Exists(copy)
            ? new ModuleBackup(
                Path.Combine(modulesDirectory, release, "extra"),
                copy,
                Directory.EnumerateFiles(copy, "*", SearchOption.AllDirectories).Count()
            )
            : null;
    }

    /// <summary>Removes what the failed install left in extra and puts the copy back; then the copy is gone.</summary>
    public void Restore()
    {
        foreach (var entry in ZfsEntries(Extra))
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
        if (Files > 0)
        {
            Directory.CreateDirectory(Extra);
        }
        foreach (var entry in Directory.EnumerateFileSystemEntries(Copy))
        {
            CopyEntry(entry, Path.Combine(Extra, Path.GetFileName(entry)));
        }
        Discard();
    }

    /// <summary>The install finished: the copy is no longer needed.</summary>
    public void Discard()
    {
        if (Directory.Exists(Copy))
        {
            Directory.Delete(Copy, recursive: true);
        }
    }

    /// <summary>The OpenZFS entries of an extra directory: its module directories and module files, nothing else.</summary>
    private static IEnumerable<string> ZfsEntries(string extra) =>
        Directory.Exists(extra)
            ? Directory
                .EnumerateFileSystemEntries(extra)
                .Where(e =>
                    Directory.Exists(e)
                        ? Directories.Contains(Path.GetFileName(e))
                        : Modules.Contains(ModuleName(Path.GetFileName(e)))
                )
                .ToList()
            : [];

    /// <summary>"zfs" from zfs.ko, zfs.ko.xz, zfs.ko.zst; "" for anything that is not a module.</summary>
    private static string ModuleName(string file)
    {
        var ko = file.IndexOf(".ko", StringComparison.Ordinal);
        return ko > 0 && (file.Length == ko + 3 || file[ko + 3] == '.') ? file[..ko] : "";
    }

    private static int CopyEntry(string from, string to)
    {
        if (!Directory.Exists(from))
        {
            File.Copy(from, to, overwrite: true);
            return 1;
        }
        Directory.CreateDirectory(to);
        var files = 0;
        foreach (var child in Directory.EnumerateFileSystemEntries(from))
        {
            files += CopyEntry(child, Path.Combine(to, Path.GetFileName(child)));
        }
        return files;
    }
}
