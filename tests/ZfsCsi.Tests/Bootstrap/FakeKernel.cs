using ZfsCsi.Bootstrap;

namespace ZfsCsi.Tests.Bootstrap;

/// <summary>
/// A machine in a temp directory: fake uname, modinfo, modprobe, depmod, make, zfs and zpool
/// scripts, a fake ZFS source tree with a configure script and META, /lib/modules with headers and
/// installed module files, /sys/module. Every tool appends "name args" to one log, so tests see
/// what ran and in what order. Failures are injected with files: state/fail-&lt;step&gt; (always) or
/// state/failonce-&lt;step&gt;.
/// </summary>
/// <remarks>
/// The tools answer the way OpenZFS's do, because the bootstrap's logic depends on it:
/// <list type="bullet">
/// <item><c>zfs</c> and <c>zpool</c> run libzfs_init() before any subcommand, which fails without
/// /sys/module/zfs with "The ZFS modules are not loaded" and exit 1
/// (lib/libzfs/os/linux/libzfs_util_os.c libzfs_load_module_impl(), libzfs_error_init(ENXIO));</item>
/// <item><c>zfs -V</c>/<c>--version</c> is answered before libzfs_init() (cmd/zfs/zfs_main.c main());
/// it prints the userland line "zfs-X.Y.Z-R", then the "zfs-kmod-" line or, without the module,
/// "zfs_version_kernel() failed: No such file or directory" on stderr and exit 1 (OpenZFS 2.0 and
/// later, #10483). <see cref="KernelVersionFirst"/> gives the 0.8 order: nothing on stdout without the module;</item>
/// <item><c>make install</c> writes the modules under /lib/modules/&lt;configured release&gt;/extra
/// (zfs/zfs.ko, spl/spl.ko: here the files hold the version), <c>depmod -a</c> indexes them in
/// modules.dep, and <c>modprobe zfs</c> loads only what modules.dep lists.</item>
/// </list>
/// </remarks>
public sealed class FakeKernel : IDisposable
{
    public const string Release = "6.1.0-test";
    public const string NewerRelease = "6.2.0-test";
    public const string NotLoaded = "The ZFS modules are not loaded.";

    public FakeKernel()
    {
        Directory.CreateDirectory(Bin);
        Directory.CreateDirectory(State);
        Directory.CreateDirectory(Path.Combine(State, "mounted"));
        Directory.CreateDirectory(Source);
        // A release tarball's tree: the git revision header is shipped, there is no .git.
        Directory.CreateDirectory(Path.Combine(Source, "include"));
        File.WriteAllText(GitRevisionHeader, "#define\tZFS_META_GITREV \"zfs-2.2.2-0-g1234567\"\n");
        Directory.CreateDirectory(SysModule);
        File.WriteAllText(Path.Combine(State, "release"), Release);
        File.WriteAllText(Path.Combine(State, "datasets"), "");
        SourceRelease("2.2.2", "1");
        Headers(Release);
        Tool("uname", """cat "$S/release" """);
        Tool(
            "modinfo",
            """
            # modinfo -k REL -F version zfs
            ko="$MOD/$2/extra/zfs/zfs.ko"
            if [ -f "$ko" ]; then cat "$ko"; else echo "modinfo: ERROR: Module zfs not found." >&2; exit 1; fi
            """
        );
        Tool(
            "zfs",
            """
            case "$1" in
              -V|--version)
                [ -f "$S/userland" ] || { echo "zfs: command not found" >&2; exit 127; }
                if [ -f "$S/kmod-first" ] && [ ! -f "$SYS/zfs/version" ]; then echo "zfs_version_kernel() failed: No such file or directory" >&2; exit 1; fi
                echo "zfs-$(cat "$S/userland")"
                [ -f "$SYS/zfs/version" ] || { echo "zfs_version_kernel() failed: No such file or directory" >&2; exit 1; }
                echo "zfs-kmod-$(cat "$SYS/zfs/version")"
                exit 0;;
            esac
            [ -f "$S/userland" ] || { echo "zfs: command not found" >&2; exit 127; }
            [ -d "$SYS/zfs" ] || { printf "The ZFS modules are not loaded.\nTry running '/sbin/modprobe zfs' as root to load them.\n" >&2; exit 1; }
            case "$1" in
              version) echo "zfs-$(cat "$S/userland")"; echo "zfs-kmod-$(cat "$SYS/zfs/version")";;
              list)
                # zfs list -H -o name,mountpoint,canmount,mounted -r -t filesystem POOL
                while IFS=$'\t' read -r name mp can; do
                  [ -n "$name" ] || continue
                  m=no; [ -f "$S/mounted/${name//\//_}" ] && m=yes
                  printf '%s\t%s\t%s\t%s\n' "$name" "$mp" "$can" "$m"
                done < "$S/datasets";;
              mount)
                [ -f "$S/fail-zfs-mount-${2//\//_}" ] && { echo "cannot mount '$2': directory is not empty" >&2; exit 1; }
                touch "$S/mounted/${2//\//_}";;
              *) echo "unrecognized command '$1'" >&2; exit 2;;
            esac
            """
        );
        Tool(
            "modprobe",
            """
            rel=$(cat "$S/release")
            grep -q '^extra/zfs/zfs.ko' "$MOD/$rel/modules.dep" 2>/dev/null || { echo "modprobe: FATAL: Module zfs not found in directory /lib/modules/$rel" >&2; exit 1; }
            ko="$MOD/$rel/extra/zfs/zfs.ko"
            [ "$(cat "$ko")" = partial ] && { echo "modprobe: ERROR: could not insert 'zfs': Exec format error" >&2; exit 1; }
            mkdir -p "$SYS/zfs" && cp "$ko" "$SYS/zfs/version"
            """
        );
        Tool(
            "depmod",
            """
            # depmod -a REL
            cd "$MOD/$2" && find . -name '*.ko' | sed 's|^\./||' | sort | sed 's/$/:/' > modules.dep
            """
        );
        Tool(
            "zpool",
            """
            [ -f "$S/fuse" ] || [ -d "$SYS/zfs" ] || { printf "The ZFS modules are not loaded.\nTry running '/sbin/modprobe zfs' as root to load them.\n" >&2; exit 1; }
            case "$1" in
              list) for f in "$S"/pool-*; do [ -f "$f" ] && printf '%s\t%s\n' "${f##*/pool-}" "$(cat "$f")"; done; exit 0;;
              status) printf '  pool: %s\n state: ONLINE\n scan: none requested\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n\t%s ONLINE 0 0 0\n\nerrors: No known data errors\n' "$2" "$2";;
              import)
                pool="${!#}"
                if [ -f "$S/sleep-zpool-import" ]; then sleep "$(cat "$S/sleep-zpool-import")"; fi
                [ -f "$S/import-error-$pool" ] && { cat "$S/import-error-$pool" >&2; exit 1; }
                [ -f "$S/exported-$pool" ] || { echo "cannot import '$pool': no such pool available" >&2; exit 1; }
                mv "$S/exported-$pool" "$S/pool-$pool"
                case " $* " in
                  *" -N "*) ;;
                  *) while IFS=$'\t' read -r name mp can; do [ -n "$name" ] && [ "$can" = on ] && touch "$S/mounted/${name//\//_}"; done < "$S/datasets";;
                esac
                exit 0;;
              *) exit 2;;
            esac
            """
        );
        Tool(
            "make",
            """
            step="make-$1"; case "$1" in -j*) step=make-j;; esac
            # As OpenZFS's: make clean deletes the git revision header, and a tree without .git cannot make it again.
            if [ "$1" = clean ]; then rm -f include/zfs_gitrev.h; fi
            if [ "$step" = make-j ] && [ ! -f include/zfs_gitrev.h ]; then echo "include/zfs_gitrev.h: No such file or directory" >&2; exit 2; fi
            echo "compiling module/zfs/arc.c for $step"
            if [ -f "$S/sleep-$step" ]; then sleep "$(cat "$S/sleep-$step")"; fi
            if [ -f "$S/failonce-$step" ]; then rm -f "$S/failonce-$step"; echo "module/zfs/arc.c:42: error: boom" >&2; exit 2; fi
            if [ -f "$S/fail-$step" ] && [ "$1" != install ]; then echo "module/zfs/arc.c:42: error: boom" >&2; exit 2; fi
            rel=$(cat "$S/configured-release" 2>/dev/null)
            if [ "$1" = install ]; then
              # modules_install copies the modules first, then may fail: a half-installed module.
              d="$MOD/$rel/extra"; mkdir -p "$d/zfs" "$d/spl"
              echo partial > "$d/spl/spl.ko"; echo partial > "$d/zfs/zfs.ko"
              if [ -f "$S/fail-$step" ]; then echo "install: cannot create regular file: No space left on device" >&2; exit 2; fi
              cp VERSION "$d/zfs/zfs.ko"; cp VERSION "$d/spl/spl.ko"; cp VERSION "$S/userland"; exit 0
            fi
            if [ "$1" = uninstall ]; then rm -rf "$MOD/$rel/extra/zfs" "$MOD/$rel/extra/spl"; rm -f "$S/userland"; exit 0; fi
            """
        );
        File.WriteAllText(
            Path.Combine(Source, "configure"),
            Script(
                "configure",
                """
                for a in "$@"; do case "$a" in --with-linux-obj=*) obj="${a#--with-linux-obj=}";; esac; done
                basename "$(dirname "$obj")" > "$S/configured-release"
                echo 'all: ; true' > Makefile
                """
            )
        );
        File.SetUnixFileMode(Path.Combine(Source, "configure"), (UnixFileMode)0b111_101_101);
    }

    public string Root { get; } =
        Path.Combine(Path.GetTempPath(), "zfs-csi-bootstrap-tests", Guid.NewGuid().ToString("N"));
    public string Bin => Path.Combine(Root, "bin");
    public string State => Path.Combine(Root, "state");
    public string Source => Path.Combine(Root, "src", "zfs-2.2.2");
    public string GitRevisionHeader =>
        Path.Combine(Source, ZfsCsi.Bootstrap.Module.ModuleBootstrapper.GitRevisionHeader);
    public string ModulesDirectory => Path.Combine(Root, "lib", "modules");
    public string SysModule => Path.Combine(Root, "sys", "module");
    public string LoadedVersionFile => Path.Combine(SysModule, "zfs", "version");
    public string StatusFile => Path.Combine(Root, "run", "bootstrap.json");
    public string LockFile => Path.Combine(Root, "run", "bootstrap.lock");
    private string LogFile => Path.Combine(Root, "log");

    /// <summary>What ran, in order: "make -j2", "configure --with-linux=...", ...</summary>
    public IReadOnlyList<string> Ran => File.Exists(LogFile) ? File.ReadAllLines(LogFile) : [];

    public string Extra(string release = Release) => Path.Combine(ModulesDirectory, release, "extra");

    public void Headers(string release)
    {
        Directory.CreateDirectory(Path.Combine(ModulesDirectory, release, "build"));
        Directory.CreateDirectory(Path.Combine(ModulesDirectory, release, "source"));
    }

    public void RemoveHeaders(string release)
    {
        Directory.Delete(Path.Combine(ModulesDirectory, release, "build"));
        Directory.Delete(Path.Combine(ModulesDirectory, release, "source"));
    }

    /// <summary>The release the source tree builds: its META (what the bootstrap reads) and the VERSION the fake make installs.</summary>
    public void SourceRelease(string version, string release)
    {
        File.WriteAllText(
            Path.Combine(Source, "META"),
            $"Meta:          1\nName:          zfs\nBranch:        1.0\nVersion:       {version}\nRelease:       {release}\nRelease-Tags:  relext\nLicense:       CDDL\nAuthor:        OpenZFS\n"
        );
        File.WriteAllText(Path.Combine(Source, "VERSION"), $"{version}-{release}");
    }

    public void Userland(string version) => File.WriteAllText(Path.Combine(State, "userland"), version);

    /// <summary>The tools of OpenZFS 0.8: <c>zfs --version</c> reads the kernel version first and prints nothing on stdout without the module.</summary>
    public void KernelVersionFirst() => File.WriteAllText(Path.Combine(State, "kmod-first"), "");

    /// <summary>zfs-fuse: zpool works without any kernel module.</summary>
    public void ZfsFuse() => File.WriteAllText(Path.Combine(State, "fuse"), "");

    /// <summary>A module of <paramref name="version"/> installed for <paramref name="release"/> (zfs.ko and spl.ko, indexed by depmod).</summary>
    public void Installed(string version, string release = Release)
    {
        Directory.CreateDirectory(Path.Combine(Extra(release), "zfs"));
        Directory.CreateDirectory(Path.Combine(Extra(release), "spl"));
        File.WriteAllText(Path.Combine(Extra(release), "zfs", "zfs.ko"), version);
        File.WriteAllText(Path.Combine(Extra(release), "spl", "spl.ko"), version);
        File.WriteAllText(
            Path.Combine(ModulesDirectory, release, "modules.dep"),
            "extra/spl/spl.ko:\nextra/zfs/zfs.ko:\n"
        );
    }

    public string? InstalledVersion(string release = Release)
    {
        var ko = Path.Combine(Extra(release), "zfs", "zfs.ko");
        return File.Exists(ko) ? File.ReadAllText(ko).Trim() : null;
    }

    public void Loaded(string version)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LoadedVersionFile)!);
        File.WriteAllText(LoadedVersionFile, version);
    }

    /// <summary>An exported pool (importable), with datasets "name\tmountpoint\tcanmount" lines.</summary>
    public void ExportedPool(string pool, params string[] datasets)
    {
        File.WriteAllText(Path.Combine(State, $"exported-{pool}"), "ONLINE");
        File.WriteAllText(Path.Combine(State, "datasets"), string.Join('\n', datasets) + "\n");
    }

    /// <summary>zpool import of <paramref name="pool"/> fails with exit 1 and <paramref name="stderr"/> (what a real zpool printed).</summary>
    public void ImportFails(string pool, string stderr) =>
        File.WriteAllText(Path.Combine(State, $"import-error-{pool}"), stderr);

    public void ImportedPool(string pool, string health = "ONLINE") =>
        File.WriteAllText(Path.Combine(State, $"pool-{pool}"), health);

    public bool IsMounted(string dataset) => File.Exists(Path.Combine(State, "mounted", dataset.Replace('/', '_')));

    public void Fail(string step) => File.WriteAllText(Path.Combine(State, $"fail-{step}"), "");

    public void FailOnce(string step) => File.WriteAllText(Path.Combine(State, $"failonce-{step}"), "");

    public void Slow(string step, double seconds) =>
        File.WriteAllText(
            Path.Combine(State, $"sleep-{step}"),
            seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)
        );

    /// <summary>A machine where everything fits: module 2.2.2 installed for the running kernel, loaded, userland 2.2.2.</summary>
    public FakeKernel AllGood()
    {
        Userland("2.2.2-1");
        Installed("2.2.2-1");
        Loaded("2.2.2-1");
        return this;
    }

    public BootstrapOptions Options(params string[] extra) =>
        BootstrapOptions.Parse([
            "once",
            "--uname",
            Path.Combine(Bin, "uname"),
            "--modinfo",
            Path.Combine(Bin, "modinfo"),
            "--modprobe",
            Path.Combine(Bin, "modprobe"),
            "--depmod",
            Path.Combine(Bin, "depmod"),
            "--make",
            Path.Combine(Bin, "make"),
            "--zfs",
            Path.Combine(Bin, "zfs"),
            "--zpool",
            Path.Combine(Bin, "zpool"),
            "--modules-dir",
            ModulesDirectory,
            "--sys-module-dir",
            SysModule,
            "--source",
            Source,
            "--jobs",
            "2",
            "--status-file",
            StatusFile,
            // Never this machine's /etc/zfs-csi/keys: these fake hosts have no encrypted volumes.
            "--key-dir",
            Path.Combine(Root, "keys"),
            "--build-lock-file",
            LockFile,
            "--mount-lock-file",
            "",
            "--retry-delay",
            "0.05",
            "--command-timeout",
            "10",
            "--build-timeout",
            "30",
            .. extra,
        ]);

    /// <summary>Runs one of the fake tools directly (to show it answers like the real one).</summary>
    public (int ExitCode, string Stdout, string Stderr) Run(string tool, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Path.Combine(Bin, tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            throw new TimeoutException($"fake {tool} did not finish");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private void Tool(string name, string body)
    {
        var path = Path.Combine(Bin, name);
        File.WriteAllText(path, Script(name, body));
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    private string Script(string name, string body) =>
        $"#!/bin/bash\nS='{State}'\nSYS='{SysModule}'\nMOD='{ModulesDirectory}'\necho \"{name} $*\" >> '{LogFile}'\n"
        + string.Join('\n', body.Split('\n').Select(l => l.TrimStart()))
        + "\n";

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException) { }
    }
}
