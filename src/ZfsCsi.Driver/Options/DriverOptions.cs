using ZfsCsi.Core.Logging;
using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Options;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Driver.Options;

/// <summary>Which CSI services this process serves.</summary>
public enum DriverMode
{
    Controller,
    Node,
    Both,
}

/// <summary>
/// The driver's command line, with the flag conventions of the kubernetes-csi drivers
/// (<c>--endpoint unix:///csi/csi.sock --nodeid &lt;node name&gt; --mode controller</c>). Parsed strictly and
/// checked before the server starts: an unknown flag or a bad value stops start-up with a message.
/// </summary>
public sealed partial class DriverOptions
{
    public const string DefaultDriverName = "zfs.csi.dev";

    /// <summary>A zfs command still running after a day is hung; the bound also keeps the timeout within what CancelAfter takes.</summary>
    public const int MaxZfsTimeoutSeconds = 86400;

    public string Endpoint { get; set; } = "unix:///csi/csi.sock";
    public string NodeId { get; set; } = "";
    public DriverMode Mode { get; set; } = DriverMode.Both;
    public string DriverName { get; set; } = DefaultDriverName;
    public string LogFormat { get; set; } = ConsoleLog.Text;
    public VolumeOptions Volumes { get; } = new();
    public ZfsOptions Zfs { get; } = new();
    public NodeOptions Node { get; } = new();

    /// <summary>The bootstrap's status file (see ZfsCsi.Core.Bootstrap); empty: no bootstrap gating.</summary>
    public string BootstrapStatusFile { get; set; } = "";

    /// <summary>A watch sidecar's status older than this counts as stale (not ready), and a stale step as stuck (not alive).</summary>
    public TimeSpan BootstrapStaleAfter { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>TCP port of the HTTP /readyz and /healthz listener; 0: no listener.</summary>
    public int HealthPort { get; set; }

    /// <summary>Address the health listener binds to.</summary>
    public string HealthAddress { get; set; } = "127.0.0.1";

    /// <summary>HOST:PORT of the HTTP /metrics listener (Prometheus); empty: no metrics at all (the default).</summary>
    public string MetricsAddress { get; set; } = "";

    /// <summary>How often the controller reads the pool and volume metrics (one zpool and zfs listing each time).</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><see cref="MetricsAddress"/> parsed; null when metrics are off.</summary>
    /// <remarks>":PORT" is every IPv4 address, as the kubernetes-csi sidecars' --http-endpoint takes it.</remarks>
    public System.Net.IPEndPoint? MetricsEndpoint =>
        MetricsAddress.Length > 0
        && System.Net.IPEndPoint.TryParse(
            MetricsAddress.StartsWith(':') ? "0.0.0.0" + MetricsAddress : MetricsAddress,
            out var endpoint
        )
            ? endpoint
            : null;

    /// <summary>The unix socket path of <see cref="Endpoint"/>.</summary>
    public string SocketPath =>
        Endpoint.StartsWith("unix://", StringComparison.Ordinal)
            ? Endpoint["unix://".Length..]
            : Endpoint["unix:".Length..];

    /// <summary>Every flag: the usage and the parsing are made from this one table.</summary>
    public static readonly FlagTable<DriverOptions> Table = new FlagTable<DriverOptions>(
        "zfs-csi-driver: the zfs-csi CSI driver (controller and/or node plugin)\n",
        () => new DriverOptions()
    )
        .Value(
            "--endpoint",
            "URL",
            FlagValues.Text,
            o => o.Endpoint,
            (o, v) => o.Endpoint = v,
            "unix socket to serve (unix:///absolute/path.sock)"
        )
        .Value(
            "--nodeid",
            "ID",
            FlagValues.Text,
            o => o.NodeId,
            (o, v) => o.NodeId = v,
            "this node's name (required for --mode node|both)",
            alias: "--node-id"
        )
        // Not Enum.TryParse: it also takes "controller,node" (OR-ed into Node) and numbers.
        .Value(
            "--mode",
            "MODE",
            FlagValues.Choice(
                ignoreCase: true,
                ("controller", DriverMode.Controller),
                ("node", DriverMode.Node),
                ("both", DriverMode.Both)
            ),
            o => o.Mode,
            (o, v) => o.Mode = v,
            "which CSI services to serve"
        )
        .Value(
            "--driver-name",
            "NAME",
            FlagValues.Text,
            o => o.DriverName,
            (o, v) => o.DriverName = v,
            "CSI driver name (the StorageClass provisioner)"
        )
        .Value(
            "--parent-dataset",
            "DS",
            FlagValues.Text,
            o => o.Volumes.ParentDataset,
            (o, v) => o.Volumes.ParentDataset = v,
            "dataset that holds one child dataset per volume"
        )
        .Value("--zfs", "PATH", FlagValues.Text, o => o.Zfs.ZfsCommand, (o, v) => o.Zfs.ZfsCommand = v, "zfs program")
        .Value(
            "--zpool",
            "PATH",
            FlagValues.Text,
            o => o.Zfs.ZpoolCommand,
            (o, v) => o.Zfs.ZpoolCommand = v,
            "zpool program"
        )
        // Bounded: Infinity or 1e300 would overflow TimeSpan, 1e-9 would round to a zero timeout, and
        // a zfs command still running after a day is hung (the bound also keeps CancelAfter happy).
        .Value(
            "--zfs-timeout",
            "SECONDS",
            FlagValues.Seconds(Bounds.AtLeast(0.001).AtMost(MaxZfsTimeoutSeconds)),
            o => o.Zfs.CommandTimeout,
            (o, v) => o.Zfs.CommandTimeout = v,
            "kill any zfs/zpool command after this long"
        )
        .Value(
            "--mount-lock-file",
            "PATH",
            FlagValues.Text,
            o => o.Zfs.MountLockFile,
            (o, v) => o.Zfs.MountLockFile = v,
            "lock shared by every process that mounts on this ZFS; \"\" for in-process only"
        )
        .Value(
            "--mount-lock-timeout",
            "SECONDS",
            FlagValues.Seconds(Bounds.Above(0).AtMost(86400)),
            o => o.Zfs.MountLockTimeout,
            (o, v) => o.Zfs.MountLockTimeout = v,
            "fail with DEADLINE_EXCEEDED after waiting this long for the mount lock"
        )
        .Value(
            "--creating-grace",
            "SECONDS",
            FlagValues.Seconds(
                Bounds
                    .AtLeast(VolumeOptions.MinimumCreatingGrace.TotalSeconds)
                    .AtMost(VolumeOptions.MaximumCreatingGrace.TotalSeconds)
            ),
            o => o.Volumes.CreatingGrace,
            (o, v) => o.Volumes.CreatingGrace = v,
            "a volume still half-made this long after its CreateVolume began was abandoned by the CO and is destroyed by the sweep (at least the longest a create can take)"
        )
        .Value(
            "--key-dir",
            "DIR",
            FlagValues.Text,
            o => o.Volumes.KeyDirectory,
            (o, v) => o.Volumes.KeyDirectory = v,
            "controller: where encrypted volumes' key files are kept (0700, on the storage host's root disk; the same path for the bootstrap's --key-dir)"
        )
        .Value(
            "--sweep-interval",
            "SECONDS",
            FlagValues.Seconds(Bounds.AtLeast(0).AtMost(86400)),
            o => o.Volumes.SweepInterval,
            (o, v) => o.Volumes.SweepInterval = v,
            "how often the controller sweeps by itself (kept volumes nothing needs, abandoned half-made ones), besides after every delete; 0 for only after deletes, else at least 10"
        )
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
        )
        .Value(
            "--bootstrap-status-file",
            "PATH",
            FlagValues.Text,
            o => o.BootstrapStatusFile,
            (o, v) => o.BootstrapStatusFile = v,
            "report ready only when zfs-csi-bootstrap's status file (e.g. /run/zfs-csi/bootstrap.json) says ready; default: not gated"
        )
        .Value(
            "--bootstrap-stale-after",
            "SECONDS",
            FlagValues.Seconds(Bounds.Above(0)),
            o => o.BootstrapStaleAfter,
            (o, v) => o.BootstrapStaleAfter = v,
            "a watch sidecar's status older than this is stale, and a step that long without heartbeat is stuck (/healthz 503)"
        )
        .Value(
            "--health-port",
            "PORT",
            FlagValues.Whole(Bounds.AtLeast(0).AtMost(65535)),
            o => o.HealthPort,
            (o, v) => o.HealthPort = v,
            "serve HTTP /readyz and /healthz on this TCP port, 0 for off"
        )
        .Value(
            "--health-address",
            "IP",
            FlagValues.Text,
            o => o.HealthAddress,
            (o, v) => o.HealthAddress = v,
            "address of the health listener"
        )
        .Value(
            "--metrics-address",
            "IP:PORT",
            FlagValues.Text,
            o => o.MetricsAddress,
            (o, v) => o.MetricsAddress = v,
            "serve Prometheus metrics on http://IP:PORT/metrics, e.g. 0.0.0.0:9809, :9809 (the same) or [::]:9809; default off"
        )
        .Value(
            "--metrics-interval",
            "SECONDS",
            FlagValues.Seconds(Bounds.AtLeast(1).AtMost(86400)),
            o => o.MetricsInterval,
            (o, v) => o.MetricsInterval = v,
            "how often the controller reads pool and volume metrics (one zpool and one zfs listing)"
        )
        .Section("node plugin (--mode node|both):")
        .Value(
            "--data-root",
            "PATH",
            FlagValues.Text,
            o => o.Node.DataRoot,
            (o, v) => o.Node.DataRoot = v,
            "where this node sees the pool's root (dataset data/k8s/v is PATH/k8s/v)"
        )
        .Value(
            "--kubelet-dir",
            "PATH",
            FlagValues.Text,
            o => o.Node.KubeletDir,
            (o, v) => o.Node.KubeletDir = v,
            "target paths must be inside it"
        )
        .Value(
            "--fs-timeout",
            "SECONDS",
            FlagValues.Seconds(NodeSeconds),
            o => o.Node.CallTimeout,
            (o, v) => o.Node.CallTimeout = v,
            "a stat/statvfs on the data root or a target slower than this means the data root is dead"
        )
        .Value(
            "--sshfs-remote",
            "USER@HOST:/PATH",
            FlagValues.Text,
            o => o.Node.Sshfs?.Remote ?? "",
            (o, v) => o.SshfsOrNew().Remote = v,
            "mount the data root over SSHFS and keep it mounted"
        )
        .Value(
            "--sshfs-port",
            "PORT",
            FlagValues.Whole(Bounds.AtLeast(1).AtMost(65535)),
            o => (o.Node.Sshfs ?? new SshfsOptions()).Port,
            (o, v) => o.SshfsOrNew().Port = v,
            "SSH port"
        )
        .Value(
            "--sshfs-identity",
            "PATH",
            FlagValues.Text,
            o => o.Node.Sshfs?.IdentityFile ?? "",
            (o, v) => o.SshfsOrNew().IdentityFile = v,
            "private key for SSHFS (required with --sshfs-remote)"
        )
        .Value(
            "--sshfs-known-hosts",
            "PATH",
            FlagValues.Text,
            o => o.Node.Sshfs?.KnownHostsFile ?? "",
            (o, v) => o.SshfsOrNew().KnownHostsFile = v,
            "known_hosts pinning the host key (required with --sshfs-remote; host key checking is never turned off)"
        )
        .Value(
            "--sshfs-check-interval",
            "SECONDS",
            FlagValues.Seconds(NodeSeconds),
            o => o.Node.CheckInterval,
            (o, v) => o.Node.CheckInterval = v,
            "how often the SSHFS mount is checked"
        )
        // ssh's own options take whole numbers (ssh_config: ConnectTimeout, ServerAliveInterval, ServerAliveCountMax).
        .Value(
            "--sshfs-connect-timeout",
            "SECONDS",
            FlagValues.Whole(SshWhole, "s"),
            o => (o.Node.Sshfs ?? new SshfsOptions()).ConnectTimeout,
            (o, v) => o.SshfsOrNew().ConnectTimeout = v,
            "ssh's ConnectTimeout for each mount"
        )
        .Value(
            "--sshfs-alive-interval",
            "SECONDS",
            FlagValues.Whole(SshWhole, "s"),
            o => (o.Node.Sshfs ?? new SshfsOptions()).ServerAliveInterval,
            (o, v) => o.SshfsOrNew().ServerAliveInterval = v,
            "ssh's ServerAliveInterval"
        )
        .Value(
            "--sshfs-alive-count",
            "N",
            FlagValues.Whole(SshWhole),
            o => (o.Node.Sshfs ?? new SshfsOptions()).ServerAliveCountMax,
            (o, v) => o.SshfsOrNew().ServerAliveCountMax = v,
            "ssh's ServerAliveCountMax (a link silent for interval x N is dead and sshfs reconnects); raise both for a slow storage host (a VM under emulation), not for a real network"
        )
        .Value(
            "--sshfs-hung-grace",
            "SECONDS",
            FlagValues.Whole(Bounds.AtLeast(1).AtMost(86_400), "s"),
            o => (o.Node.Sshfs ?? new SshfsOptions()).HungGraceSeconds,
            (o, v) => o.SshfsOrNew().HungGraceSeconds = v,
            "how long the SSHFS mount may not answer at all, its sshfs running, before a trial login beside it decides whether to mount again (a slow storage host answers in the end)"
        )
        // The period is how long a pod's writes can land in the parent dataset after its dataset is unmounted.
        .Value(
            "--bind-check-interval",
            "SECONDS",
            FlagValues.Seconds(
                Bounds
                    .AtLeast(NodeOptions.MinBindCheckInterval.TotalSeconds)
                    .AtMost(NodeOptions.MaxBindCheckInterval.TotalSeconds)
            ),
            o => o.Node.BindCheckInterval,
            (o, v) => o.Node.BindCheckInterval = v,
            "how often every published bind is checked against its dataset being mounted on the pool's host (a bind of an unmounted dataset is cut so writes cannot land in the parent)"
        );

    /// <summary>The node's own timers: positive, under an hour.</summary>
    private static Bounds NodeSeconds => Bounds.Above(0).Below(3600);

    private static Bounds SshWhole => Bounds.AtLeast(1).AtMost(600);

    public static string Usage => Table.Usage;

    public static DriverOptions Parse(IReadOnlyList<string> args)
    {
        var o = new DriverOptions();
        Table.Parse(o, args);
        o.Validate();
        return o;
    }

    private SshfsOptions SshfsOrNew() => Node.Sshfs ??= new SshfsOptions();

    /// <summary>Every check that can be made before serving.</summary>
    public void Validate()
    {
        if (!Endpoint.StartsWith("unix:", StringComparison.Ordinal) || !SocketPath.StartsWith('/'))
        {
            throw new OptionsException($"--endpoint '{Endpoint}': expected unix:///absolute/path.sock");
        }
        if (Mode != DriverMode.Controller && string.IsNullOrWhiteSpace(NodeId))
        {
            throw new OptionsException("--nodeid is required when serving the node plugin (--mode node or both)");
        }
        // CSI spec, GetPluginInfo: a domain-like name of at most 63 characters.
        if (
            DriverName.Length is 0 or > 63
            || !DriverName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
            || !char.IsAsciiLetterOrDigit(DriverName[0])
            || !char.IsAsciiLetterOrDigit(DriverName[^1])
        )
        {
            throw new OptionsException(
                $"--driver-name '{DriverName}': expected a lower-case domain name of at most 63 characters"
            );
        }
        if (!DatasetName.TryParse(Volumes.ParentDataset, out var parent, out var why))
        {
            throw new OptionsException($"--parent-dataset: {why}");
        }
        if (parent.Value.Length > VolumeOptions.MaxParentLength)
        {
            throw new OptionsException(
                $"--parent-dataset '{parent}' is longer than {VolumeOptions.MaxParentLength} bytes: volume ids (parent/name) must fit CSI's 128 bytes"
            );
        }
        Volumes.Validate(Zfs);
        ValidateNode();
        if (BootstrapStatusFile.Length > 0 && !BootstrapStatusFile.StartsWith('/'))
        {
            throw new OptionsException($"--bootstrap-status-file '{BootstrapStatusFile}': expected an absolute path");
        }
        if (!System.Net.IPAddress.TryParse(HealthAddress, out _))
        {
            throw new OptionsException(
                $"--health-address '{HealthAddress}': expected an IP address such as 127.0.0.1 or 0.0.0.0"
            );
        }
        ValidateMetrics();
    }
}
