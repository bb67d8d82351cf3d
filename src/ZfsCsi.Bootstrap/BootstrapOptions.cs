using System.Globalization;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Logging;
using ZfsCsi.Core.Options;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Bootstrap;

/// <summary>once: check and repair, then exit (systemd oneshot). watch: repeat every interval (sidecar).</summary>
public enum BootstrapCommand
{
    Once,
    Watch,

    /// <summary>A liveness probe for the bootstrap container itself: exit 0 unless the status file shows a step with a stale heartbeat.</summary>
    Alive,
}

/// <summary>kernel: OpenZFS, a kernel module to check and rebuild. none: zfs-fuse (user space), no module.</summary>
public enum ModuleMode
{
    Kernel,
    None,
}

/// <summary>What an import by the bootstrap mounts (zpool import mounts every dataset of the pool unless -N).</summary>
public enum ImportMount
{
    /// <summary>Not given: <see cref="None"/> with the kernel module, <see cref="All"/> with zfs-fuse.</summary>
    Auto,

    /// <summary>
    /// zpool import -N: nothing. A sidecar's mounts happen in its own mount namespace, so the
    /// pool's datasets outside the directories it shares with the host (the seed's /home/*,
    /// /var/lib/mysql) would be mounted only inside the container; the host mounts them.
    /// </summary>
    None,

    /// <summary>Plain zpool import: every dataset, in this process's mount namespace (the host's, for the systemd unit).</summary>
    All,

    /// <summary>zpool import -N, then zfs mount of the datasets whose mountpoint is <see cref="BootstrapOptions.MountUnder"/> or below (a directory shared with the host, e.g. /data).</summary>
    Under,
}

/// <summary>The bootstrap's command line, parsed strictly and validated before anything runs.</summary>
public sealed class BootstrapOptions
{
    public BootstrapCommand Command { get; set; } = BootstrapCommand.Once;
    public ModuleMode Module { get; set; } = ModuleMode.Kernel;

    /// <summary>The pool to import and check; empty checks the module only.</summary>
    public string Pool { get; set; } = "";
    public List<string> ImportDirectories { get; } = [];
    public bool Import { get; set; } = true;
    public ImportMount ImportMount { get; set; } = ImportMount.Auto;

    /// <summary>With <see cref="ImportMount.Under"/>: the directory whose datasets the bootstrap mounts after importing.</summary>
    public string MountUnder { get; set; } = "";
    public bool AllowDegraded { get; set; }

    /// <summary>Check only: never build or install a module (the host's systemd unit does); an installed module that matches is still loaded.</summary>
    public bool NoRebuild { get; set; }

    /// <summary>The ZFS source tree rebuilt when the module does not fit the running kernel (the seed's /root/src/zfs-2.0.1).</summary>
    public string SourceTree { get; set; } = "";
    public List<string> ConfigureArguments { get; } = [];
    public int Jobs { get; set; } = Environment.ProcessorCount;
    public int BuildAttempts { get; set; } = 3;
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan BuildTimeout { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan ImportTimeout { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan MountLockTimeout { get; set; } = TimeSpan.FromMinutes(2);
    public string BuildLockFile { get; set; } = "/run/lock/zfs-csi-bootstrap.lock";
    public string MountLockFile { get; set; } = "/run/lock/zfs-csi-mount.lock";
    public string StatusFile { get; set; } = BootstrapStatusFile.DefaultPath;
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(120);

    public string ModulesDirectory { get; set; } = "/lib/modules";
    public string SysModuleDirectory { get; set; } = "/sys/module";
    public string Uname { get; set; } = "uname";
    public string Modinfo { get; set; } = "modinfo";
    public string Modprobe { get; set; } = "modprobe";
    public string Depmod { get; set; } = "depmod";
    public string Make { get; set; } = "make";
    public string ZfsCommand { get; set; } = "zfs";
    public string ZpoolCommand { get; set; } = "zpool";
    public string LogFormat { get; set; } = ConsoleLog.Text;

    public const string Usage = """
        zfs-csi-bootstrap: the ZFS module rebuilt for the running kernel and the pool imported, before the driver reports ready

        usage: zfs-csi-bootstrap once|watch|alive [flags]
          once                   check and repair once, exit 0 when ready, 1 when not (systemd oneshot)
          watch                  check every --interval, keep the status file current (sidecar)
          alive                  liveness probe for the sidecar: exit 1 only when the status file shows
                                 a step whose heartbeat is older than --stale-after (default 120 s), or
                                 a step running longer than its own limit plus --stale-after

          --pool NAME            pool to import and check (e.g. data); omit to check the module only
          --import-dir DIR       absolute device search directory for zpool import -d (repeatable);
                                 default: zpool's own search (/dev)
          --no-import            never import: only report whether the pool is imported
          --import-mount MODE    what an import mounts: none (zpool import -N; the host mounts, e.g.
                                 zfs mount -a), all (plain zpool import: every dataset, in this
                                 process's mount namespace), or an absolute DIR (-N, then zfs mount
                                 of the datasets whose mountpoint is DIR or below: a directory shared
                                 with the host). Default none with --module kernel, all with
                                 --module none (zfs-fuse has no -N; its daemon mounts)
          --allow-degraded       report ready when the pool is DEGRADED (default: not ready)
          --module MODE          kernel (OpenZFS, default) or none (zfs-fuse: no kernel module, skipped)
          --source DIR           ZFS source tree to rebuild from (make clean, ./configure, make, make install)
          --no-rebuild           never build or install a module (check only; the host's systemd unit
                                 rebuilds); an installed module of the userland's release is still loaded
          --configure-arg ARG    extra ./configure argument (repeatable)
          --jobs N               make -jN, default the number of cores
          --attempts N           build attempts before giving up, default 3
          --retry-delay SECONDS  pause after a failed build, doubled each time, default 30
          --build-timeout SECONDS  kill one build command after this long, default 3600
          --command-timeout SECONDS  kill a quick command (uname, modinfo, zpool list) after this long, default 30
          --import-timeout SECONDS   kill zpool import after this long, default 300
          --mount-lock-timeout SECONDS  longest wait for the mount lock before an import, default 120
          --build-lock-file PATH lock held while building, default /run/lock/zfs-csi-bootstrap.lock
          --mount-lock-file PATH machine-wide mount lock held around zpool import,
                                 default /run/lock/zfs-csi-mount.lock; "" for none
          --status-file PATH     status for the driver, default /run/zfs-csi/bootstrap.json; "" for none
          --interval SECONDS     watch: time between checks, default 10
          --heartbeat SECONDS    how often the status file is refreshed while working, default 5
          --stale-after SECONDS  alive: a step whose heartbeat is older than this is stuck, default 120
          --modules-dir DIR      default /lib/modules (headers: DIR/<release>/build and /source)
          --sys-module-dir DIR   default /sys/module (loaded version: DIR/zfs/version)
          --uname --modinfo --modprobe --depmod --make --zfs --zpool PATH
                                 the programs to run (paths or names on PATH)
          --log-format FORMAT    text or json, default text
        """;

    public static BootstrapOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BootstrapOptions();
        var i = 0;
        if (args.Count > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            o.Command = args[0] switch
            {
                "once" => BootstrapCommand.Once,
                "watch" => BootstrapCommand.Watch,
                "alive" => BootstrapCommand.Alive,
                _ => throw new OptionsException($"unknown command '{args[0]}': expected once, watch or alive"),
            };
            i = 1;
        }
        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--no-import")
            {
                o.Import = false;
                continue;
            }
            if (arg is "--allow-degraded")
            {
                o.AllowDegraded = true;
                continue;
            }
            if (arg is "--no-rebuild")
            {
                o.NoRebuild = true;
                continue;
            }
            if (!Flags.TryRead(args, ref i, out var key, out var value))
            {
                throw new OptionsException($"unexpected argument '{arg}'");
            }
            switch (key)
            {
                case "--pool":
                    o.Pool = value;
                    break;
                case "--import-dir":
                    o.ImportDirectories.Add(value);
                    break;
                case "--module":
                    o.Module = value switch
                    {
                        "kernel" => ModuleMode.Kernel,
                        "none" or "fuse" => ModuleMode.None,
                        _ => throw new OptionsException($"--module '{value}': expected kernel or none"),
                    };
                    break;
                case "--source":
                    o.SourceTree = value;
                    break;
                case "--import-mount":
                    (o.ImportMount, o.MountUnder) = value switch
                    {
                        "none" => (ImportMount.None, ""),
                        "all" => (ImportMount.All, ""),
                        _ when value.StartsWith('/') => (ImportMount.Under, value),
                        _ => throw new OptionsException(
                            $"--import-mount '{value}': expected none, all or an absolute directory"
                        ),
                    };
                    break;
                case "--configure-arg":
                    o.ConfigureArguments.Add(value);
                    break;
                case "--jobs":
                    o.Jobs = PositiveInt(key, value);
                    break;
                case "--attempts":
                    o.BuildAttempts = PositiveInt(key, value);
                    break;
                case "--retry-delay":
                    o.RetryDelay = Seconds(key, value, allowZero: true);
                    break;
                case "--build-timeout":
                    o.BuildTimeout = Seconds(key, value);
                    break;
                case "--command-timeout":
                    o.CommandTimeout = Seconds(key, value);
                    break;
                case "--import-timeout":
                    o.ImportTimeout = Seconds(key, value);
                    break;
                case "--mount-lock-timeout":
                    o.MountLockTimeout = Seconds(key, value);
                    break;
                case "--build-lock-file":
                    o.BuildLockFile = value;
                    break;
                case "--mount-lock-file":
                    o.MountLockFile = value;
                    break;
                case "--status-file":
                    o.StatusFile = value;
                    break;
                case "--interval":
                    o.Interval = Seconds(key, value);
                    break;
                case "--heartbeat":
                    o.HeartbeatInterval = Seconds(key, value);
                    break;
                case "--stale-after":
                    o.StaleAfter = Seconds(key, value);
                    break;
                case "--modules-dir":
                    o.ModulesDirectory = value;
                    break;
                case "--sys-module-dir":
                    o.SysModuleDirectory = value;
                    break;
                case "--uname":
                    o.Uname = value;
                    break;
                case "--modinfo":
                    o.Modinfo = value;
                    break;
                case "--modprobe":
                    o.Modprobe = value;
                    break;
                case "--depmod":
                    o.Depmod = value;
                    break;
                case "--make":
                    o.Make = value;
                    break;
                case "--zfs":
                    o.ZfsCommand = value;
                    break;
                case "--zpool":
                    o.ZpoolCommand = value;
                    break;
                case "--log-format":
                    o.LogFormat = value;
                    break;
                default:
                    throw new OptionsException($"unknown flag '{key}'");
            }
        }
        o.Validate();
        return o;
    }

    public void Validate()
    {
        if (
            Pool.Length > 0
            && (
                !DatasetName.TryParse(Pool, out var pool, out var why)
                || pool.Value.Contains('/', StringComparison.Ordinal)
            )
        )
        {
            throw new OptionsException($"--pool '{Pool}': expected a pool name{(why is null ? "" : $" ({why})")}");
        }
        foreach (var dir in ImportDirectories)
        {
            // zpool import -d refuses relative paths ("must be an absolute path").
            if (!Path.IsPathRooted(dir))
            {
                throw new OptionsException($"--import-dir '{dir}': expected an absolute path");
            }
        }
        if (Module == ModuleMode.Kernel && SourceTree.Length > 0 && !Path.IsPathRooted(SourceTree))
        {
            throw new OptionsException($"--source '{SourceTree}': expected an absolute path");
        }
        if (Command == BootstrapCommand.Alive)
        {
            if (StatusFile.Length == 0)
            {
                throw new OptionsException("alive needs --status-file");
            }
            return;
        }
        if (Pool.Length == 0 && Module == ModuleMode.None)
        {
            throw new OptionsException("nothing to do: --module none and no --pool");
        }
        if (ImportMount == ImportMount.Auto)
        {
            ImportMount = Module == ModuleMode.None ? ImportMount.All : ImportMount.None;
        }
        if (Module == ModuleMode.None && ImportMount != ImportMount.All)
        {
            // zfs-fuse 0.7: "import [-o mntopts] [-o property=value] ... [-d dir | -c cachefile] [-D] [-f] [-R root]": no -N.
            throw new OptionsException(
                "--import-mount none or DIR needs zpool import -N, which zfs-fuse (--module none) does not have; its daemon mounts the datasets: use --import-mount all"
            );
        }
        if (
            ImportMount == ImportMount.Under
            && (
                MountUnder.Contains("/../", StringComparison.Ordinal)
                || MountUnder.EndsWith("/..", StringComparison.Ordinal)
            )
        )
        {
            throw new OptionsException($"--import-mount '{MountUnder}': expected a directory without '..'");
        }
        if (LogFormat is not (ConsoleLog.Text or ConsoleLog.Json))
        {
            throw new OptionsException($"--log-format '{LogFormat}': expected text or json");
        }
    }

    private static int PositiveInt(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new OptionsException($"{key} '{value}': expected a positive whole number");

    private static TimeSpan Seconds(string key, string value, bool allowZero = false) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
        && (s > 0 || (allowZero && s == 0))
        && s < 1e7
            ? TimeSpan.FromSeconds(s)
            : throw new OptionsException($"{key} '{value}': expected a positive number of seconds");
}
