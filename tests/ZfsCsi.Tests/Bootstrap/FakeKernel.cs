using ZfsCsi.Bootstrap;

namespace ZfsCsi.Tests.Bootstrap;

/// <summary>
/// A machine in a temp directory: fake uname, modinfo, modprobe, depmod, make and zfs scripts, a
/// fake ZFS source tree with a configure script, /lib/modules with headers, /sys/module. Every
/// tool appends "name args" to one log, so tests see what ran and in what order. State lives in
/// files: the running release, the userland version, the module installed per release, the loaded one.
/// Failures are injected with files: state/fail-&lt;step&gt; (always) or state/failonce-&lt;step&gt;.
/// </summary>
public sealed class FakeKernel : IDisposable
{
    public const string Release = "6.1.0-test";
    public const string NewerRelease = "6.2.0-test";

    public FakeKernel()
    {
        Directory.CreateDirectory(Bin);
        Directory.CreateDirectory(State);
        Directory.CreateDirectory(Source);
        Directory.CreateDirectory(SysModule);
        File.WriteAllText(Path.Combine(State, "release"), Release);
        File.WriteAllText(Path.Combine(Source, "VERSION"), "2.2.2-1");
        Headers(Release);
        Tool("uname", """cat "$S/release" """);
        Tool("modinfo", """
            # modinfo -k REL -F version zfs
            if [ -f "$S/installed-$2" ]; then cat "$S/installed-$2"; else echo "modinfo: ERROR: Module zfs not found." >&2; exit 1; fi
            """);
        Tool("zfs", """
            [ "$1" = version ] || exit 2
            [ -f "$S/userland" ] || { echo "zfs: command not found" >&2; exit 127; }
            echo "zfs-$(cat "$S/userland")"
            [ -f "$SYS/zfs/version" ] && echo "zfs-kmod-$(cat "$SYS/zfs/version")"
            exit 0
            """);
        Tool("modprobe", """
            rel=$(cat "$S/release")
            [ -f "$S/installed-$rel" ] || { echo "modprobe: FATAL: Module zfs not found in directory /lib/modules/$rel" >&2; exit 1; }
            mkdir -p "$SYS/zfs" && cp "$S/installed-$rel" "$SYS/zfs/version"
            """);
        Tool("depmod", "true");
        Tool("zpool", """
            case "$1" in
              list) printf 'tank\tONLINE\n';;
              status) printf '  pool: tank\n state: ONLINE\n scrub: none requested\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n\ttank ONLINE 0 0 0\n\nerrors: No known data errors\n';;
              *) exit 2;;
            esac
            """);
        Tool("make", """
            step="make-$1"; case "$1" in -j*) step=make-j;; esac
            echo "compiling module/zfs/arc.c for $step"
            if [ -f "$S/sleep-$step" ]; then sleep "$(cat "$S/sleep-$step")"; fi
            if [ -f "$S/failonce-$step" ]; then rm -f "$S/failonce-$step"; echo "module/zfs/arc.c:42: error: boom" >&2; exit 2; fi
            if [ -f "$S/fail-$step" ] && [ "$1" != install ]; then echo "module/zfs/arc.c:42: error: boom" >&2; exit 2; fi
            if [ "$1" = install ]; then
              rel=$(cat "$S/release")
              # make install copies the module first, then may fail: a half-installed module.
              echo "partial" > "$S/installed-$rel"
              if [ -f "$S/fail-$step" ]; then echo "install: cannot create regular file: No space left on device" >&2; exit 2; fi
              cp VERSION "$S/installed-$rel"; cp VERSION "$S/userland"; exit 0
            fi
            if [ "$1" = uninstall ]; then rm -f "$S/installed-$(cat "$S/release")"; exit 0; fi
            """);
        File.WriteAllText(Path.Combine(Source, "configure"), Script("configure", "echo 'all: ; true' > Makefile"));
        File.SetUnixFileMode(Path.Combine(Source, "configure"), (UnixFileMode)0b111_101_101);
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "zfs-csi-bootstrap-tests", Guid.NewGuid().ToString("N"));
    public string Bin => Path.Combine(Root, "bin");
    public string State => Path.Combine(Root, "state");
    public string Source => Path.Combine(Root, "src", "zfs-2.2.2");
    public string ModulesDirectory => Path.Combine(Root, "lib", "modules");
    public string SysModule => Path.Combine(Root, "sys", "module");
    public string LoadedVersionFile => Path.Combine(SysModule, "zfs", "version");
    public string StatusFile => Path.Combine(Root, "run", "bootstrap.json");
    public string LockFile => Path.Combine(Root, "run", "bootstrap.lock");
    private string LogFile => Path.Combine(Root, "log");

    /// <summary>What ran, in order: "make -j2", "configure --with-linux=...", ...</summary>
    public IReadOnlyList<string> Ran => File.Exists(LogFile) ? File.ReadAllLines(LogFile) : [];

    public void Headers(string release)
    {
        Directory.CreateDirectory(Path.Combine(ModulesDirectory, release, "build"));
        Directory.CreateDirectory(Path.Combine(ModulesDirectory, release, "source"));
    }

    public void RemoveHeaders(string release) => Directory.Delete(Path.Combine(ModulesDirectory, release), recursive: true);

    public void Userland(string version) => File.WriteAllText(Path.Combine(State, "userland"), version);

    public void Installed(string version, string release = Release) => File.WriteAllText(Path.Combine(State, $"installed-{release}"), version);

    public string? InstalledVersion(string release = Release) =>
        File.Exists(Path.Combine(State, $"installed-{release}")) ? File.ReadAllText(Path.Combine(State, $"installed-{release}")).Trim() : null;

    public void Loaded(string version)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LoadedVersionFile)!);
        File.WriteAllText(LoadedVersionFile, version);
    }

    public void Fail(string step) => File.WriteAllText(Path.Combine(State, $"fail-{step}"), "");

    public void FailOnce(string step) => File.WriteAllText(Path.Combine(State, $"failonce-{step}"), "");

    public void Slow(string step, double seconds) => File.WriteAllText(Path.Combine(State, $"sleep-{step}"), seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A machine where everything fits: module 2.2.2 installed for the running kernel, loaded, userland 2.2.2.</summary>
    public FakeKernel AllGood()
    {
        Userland("2.2.2-1");
        Installed("2.2.2-1");
        Loaded("2.2.2-1");
        return this;
    }

    public BootstrapOptions Options(params string[] extra) => BootstrapOptions.Parse(
    [
        "once", "--uname", Path.Combine(Bin, "uname"), "--modinfo", Path.Combine(Bin, "modinfo"), "--modprobe", Path.Combine(Bin, "modprobe"),
        "--depmod", Path.Combine(Bin, "depmod"), "--make", Path.Combine(Bin, "make"), "--zfs", Path.Combine(Bin, "zfs"), "--zpool", Path.Combine(Bin, "zpool"),
        "--modules-dir", ModulesDirectory, "--sys-module-dir", SysModule, "--source", Source, "--jobs", "2",
        "--status-file", StatusFile, "--build-lock-file", LockFile, "--mount-lock-file", "", "--retry-delay", "0.05",
        "--command-timeout", "10", "--build-timeout", "30",
        .. extra,
    ]);

    private void Tool(string name, string body)
    {
        var path = Path.Combine(Bin, name);
        File.WriteAllText(path, Script(name, body));
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    private string Script(string name, string body) =>
        $"#!/bin/bash\nS='{State}'\nSYS='{SysModule}'\necho \"{name} $*\" >> '{LogFile}'\n"
        + string.Join('\n', body.Split('\n').Select(l => l.TrimStart())) + "\n";

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
