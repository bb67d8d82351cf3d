using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Logging;
using ZfsCsi.Core.Options;
using ZfsCsi.Core.Volumes;
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

    /// <summary>
    /// The controller's <c>--key-dir</c>: the encryption roots whose keylocation names a file here
    /// are the driver's encrypted volumes, whose keys the bootstrap loads after the import (README, "Encryption").
    /// </summary>
    public string KeyDirectory { get; set; } = VolumeOptions.DefaultKeyDirectory;

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

    /// <summary>Every flag: the usage and the parsing are made from this one table.</summary>
    public static readonly FlagTable<BootstrapOptions> Table = new FlagTable<BootstrapOptions>(
        """
        zfs-csi-bootstrap: the ZFS module rebuilt for the running kernel and the pool imported, before the driver reports ready

        usage: zfs-csi-bootstrap once|watch|alive [flags]
          once                   check and repair once, exit 0 when ready, 1 when not (systemd oneshot)
          watch                  check every --interval, keep the status file current (sidecar)
          alive                  liveness probe for the sidecar: exit 1 only when the status file shows
                                 a step whose heartbeat is older than --stale-after (default 120 s), or
                                 a step running longer than its own limit plus --stale-after

        """,
        () => new BootstrapOptions()
    )
        .Value(
            "--pool",
            "NAME",
            FlagValues.Text,
            o => o.Pool,
            (o, v) => o.Pool = v,
            "pool to import and check (e.g. data); omit to check the module only"
        )
        .Repeated(
            "--import-dir",
            "DIR",
            FlagValues.Text,
            (o, v) => o.ImportDirectories.Add(v),
            "absolute device search directory for zpool import -d; default: zpool's own search (/dev)"
        )
        .Switch("--no-import", o => o.Import = false, "never import: only report whether the pool is imported")
        .Value(
            "--import-mount",
            "MODE",
            FlagValues.Custom<(ImportMount Mount, string Under)>(
                "none, all or an absolute directory",
                v =>
                    v switch
                    {
                        "none" => (ImportMount.None, ""),
                        "all" => (ImportMount.All, ""),
                        _ when v.StartsWith('/') => (ImportMount.Under, v),
                        _ => null,
                    },
                v =>
                    v.Mount switch
                    {
                        ImportMount.None => "none",
                        ImportMount.All => "all",
                        ImportMount.Under => v.Under,
                        _ => null,
                    }
            ),
            o => (o.ImportMount, o.MountUnder),
            (o, v) => (o.ImportMount, o.MountUnder) = v,
            "what an import mounts: none (zpool import -N; the host mounts, e.g. zfs mount -a), all (plain zpool import: every dataset, in this process's mount namespace), or an absolute DIR (-N, then zfs mount of the datasets whose mountpoint is DIR or below: a directory shared with the host). Default none with --module kernel, all with --module none (zfs-fuse has no -N; its daemon mounts)"
        )
        .Value(
            "--key-dir",
            "DIR",
            FlagValues.Text,
            o => o.KeyDirectory,
            (o, v) => o.KeyDirectory = v,
            "the controller's --key-dir: after the import, the keys of the encrypted volumes whose key files are there are loaded (zfs load-key) and their datasets mounted; a key that does not load makes the bootstrap not ready, naming the volume"
        )
        .Switch(
            "--allow-degraded",
            o => o.AllowDegraded = true,
            "report ready when the pool is DEGRADED (default: not ready)"
        )
        .Value(
            "--module",
            "MODE",
            FlagValues.Choice(
                ignoreCase: false,
                ("kernel", ModuleMode.Kernel),
                ("none", ModuleMode.None),
                ("fuse", ModuleMode.None)
            ),
            o => o.Module,
            (o, v) => o.Module = v,
            "kernel: OpenZFS, a module to check and rebuild; none (or fuse): zfs-fuse, no kernel module (skipped)"
        )
        .Value(
            "--source",
            "DIR",
            FlagValues.Text,
            o => o.SourceTree,
            (o, v) => o.SourceTree = v,
            "ZFS source tree to rebuild from (make clean, ./configure, make, make install)"
        )
        .Switch(
            "--no-rebuild",
            o => o.NoRebuild = true,
            "never build or install a module (check only; the host's systemd unit rebuilds); an installed module of the userland's release is still loaded"
        )
        .Repeated(
            "--configure-arg",
            "ARG",
            FlagValues.Text,
            (o, v) => o.ConfigureArguments.Add(v),
            "extra ./configure argument"
        )
        .Value(
            "--jobs",
            "N",
            FlagValues.Whole(Bounds.AtLeast(1)),
            o => o.Jobs,
            (o, v) => o.Jobs = v,
            "make -jN",
            defaultText: "the number of cores"
        )
        .Value(
            "--attempts",
            "N",
            FlagValues.Whole(Bounds.AtLeast(1)),
            o => o.BuildAttempts,
            (o, v) => o.BuildAttempts = v,
            "build attempts before giving up"
        )
        .Value(
            "--retry-delay",
            "SECONDS",
            FlagValues.Seconds(Bounds.AtLeast(0).Below(MaxSeconds)),
            o => o.RetryDelay,
            (o, v) => o.RetryDelay = v,
            "pause after a failed build, doubled each time"
        )
        .Value(
            "--build-timeout",
            "SECONDS",
            Seconds,
            o => o.BuildTimeout,
            (o, v) => o.BuildTimeout = v,
            "kill one build command after this long"
        )
        .Value(
            "--command-timeout",
            "SECONDS",
            Seconds,
            o => o.CommandTimeout,
            (o, v) => o.CommandTimeout = v,
            "kill a quick command (uname, modinfo, zpool list) after this long"
        )
        .Value(
            "--import-timeout",
            "SECONDS",
            Seconds,
            o => o.ImportTimeout,
            (o, v) => o.ImportTimeout = v,
            "kill zpool import after this long"
        )
        .Value(
            "--mount-lock-timeout",
            "SECONDS",
            Seconds,
            o => o.MountLockTimeout,
            (o, v) => o.MountLockTimeout = v,
            "longest wait for the mount lock before an import"
        )
        .Value(
            "--build-lock-file",
            "PATH",
            FlagValues.Text,
            o => o.BuildLockFile,
            (o, v) => o.BuildLockFile = v,
            "lock held while building"
        )
        .Value(
            "--mount-lock-file",
            "PATH",
            FlagValues.Text,
            o => o.MountLockFile,
            (o, v) => o.MountLockFile = v,
            "machine-wide mount lock held around zpool import; \"\" for none"
        )
        .Value(
            "--status-file",
            "PATH",
            FlagValues.Text,
            o => o.StatusFile,
            (o, v) => o.StatusFile = v,
            "status for the driver; \"\" for none"
        )
        .Value(
            "--interval",
            "SECONDS",
            Seconds,
            o => o.Interval,
            (o, v) => o.Interval = v,
            "watch: time between checks"
        )
        .Value(
            "--heartbeat",
            "SECONDS",
            Seconds,
            o => o.HeartbeatInterval,
            (o, v) => o.HeartbeatInterval = v,
            "how often the status file is refreshed while working"
        )
        .Value(
            "--stale-after",
            "SECONDS",
            Seconds,
            o => o.StaleAfter,
            (o, v) => o.StaleAfter = v,
            "alive: a step whose heartbeat is older than this is stuck"
        )
        .Value(
            "--modules-dir",
            "DIR",
            FlagValues.Text,
            o => o.ModulesDirectory,
            (o, v) => o.ModulesDirectory = v,
            "kernel modules and headers (DIR/<release>/build and /source)"
        )
        .Value(
            "--sys-module-dir",
            "DIR",
            FlagValues.Text,
            o => o.SysModuleDirectory,
            (o, v) => o.SysModuleDirectory = v,
            "loaded modules (loaded version: DIR/zfs/version)"
        )
        .Value("--uname", "PATH", FlagValues.Text, o => o.Uname, (o, v) => o.Uname = v, "uname program")
        .Value("--modinfo", "PATH", FlagValues.Text, o => o.Modinfo, (o, v) => o.Modinfo = v, "modinfo program")
        .Value("--modprobe", "PATH", FlagValues.Text, o => o.Modprobe, (o, v) => o.Modprobe = v, "modprobe program")
        .Value("--depmod", "PATH", FlagValues.Text, o => o.Depmod, (o, v) => o.Depmod = v, "depmod program")
        .Value("--make", "PATH", FlagValues.Text, o => o.Make, (o, v) => o.Make = v, "make program")
        .Value("--zfs", "PATH", FlagValues.Text, o => o.ZfsCommand, (o, v) => o.ZfsCommand = v, "zfs program")
        .Value("--zpool", "PATH", FlagValues.Text, o => o.ZpoolCommand, (o, v) => o.ZpoolCommand = v, "zpool program")
        .Value(
            "--log-format",
            "FORMAT",
            FlagValues.Choice(
                ignoreCase: false,
                (ConsoleLog.Text, ConsoleLog.Text),
                (ConsoleLog.Json, ConsoleLog.Json)
            ),
            o => o.LogFormat,
            (o, v) => o.LogFormat = v,
            "how log lines are written (json: Serilog compact JSON)"
        );

    /// <summary>The bootstrap's durations: far longer than any build, still far inside what a TimeSpan holds.</summary>
    private const double MaxSeconds = 1e7;

    private static FlagValue<TimeSpan> Seconds => FlagValues.Seconds(Bounds.Above(0).Below(MaxSeconds));

    public static string Usage => Table.Usage;

    public static BootstrapOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BootstrapOptions();
        var start = 0;
        if (args.Count > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            o.Command = args[0] switch
            {
                "once" => BootstrapCommand.Once,
                "watch" => BootstrapCommand.Watch,
                "alive" => BootstrapCommand.Alive,
                _ => throw new OptionsException($"unknown command '{args[0]}': expected once, watch or alive"),
            };
            start = 1;
        }
        Table.Parse(o, args, start);
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
        if (!Path.IsPathFullyQualified(KeyDirectory) || KeyDirectory.TrimEnd('/').Length == 0)
        {
            throw new OptionsException(
                $"--key-dir '{KeyDirectory}': expected an absolute directory other than / (the controller's --key-dir)"
            );
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
    }
}
