using System.Globalization;
using ZfsCsi.Core.Logging;
using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Options;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Driver.Hosting;

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

    public const string Usage = """
        zfs-csi-driver: the zfs-csi CSI driver (controller and/or node plugin)

          --endpoint URL         unix socket to serve, default unix:///csi/csi.sock
          --nodeid ID            this node's name (required for --mode node|both)
          --mode MODE            controller, node or both (default both)
          --driver-name NAME     CSI driver name, default zfs.csi.dev
          --parent-dataset DS    dataset that holds one child dataset per volume, default data/k8s
          --zfs PATH             zfs program, default zfs
          --zpool PATH           zpool program, default zpool
          --zfs-timeout SECONDS  kill any zfs/zpool command after this long, default 30
          --mount-lock-file PATH lock shared by every process that mounts on this ZFS,
                                 default /run/lock/zfs-csi-mount.lock; "" for in-process only
          --mount-lock-timeout SECONDS  fail with DEADLINE_EXCEEDED after waiting this long for
                                 the mount lock, default 120
          --creating-grace SECONDS  a volume still half-made this long after its CreateVolume
                                 began was abandoned by the CO and is destroyed by the sweep,
                                 default 3600 (at least 600 and the longest a create can take)
          --sweep-interval SECONDS  how often the controller sweeps by itself (kept volumes nothing
                                 needs, abandoned half-made ones), besides after every delete;
                                 default 600, 0 for only after deletes
          --log-format FORMAT    text or json, default text
          --bootstrap-status-file PATH  report ready only when zfs-csi-bootstrap's status file
                                 (e.g. /run/zfs-csi/bootstrap.json) says ready; default: not gated
          --bootstrap-stale-after SECONDS  a watch sidecar's status older than this is stale, and a
                                 step that long without heartbeat is stuck (/healthz 503), default 120
          --health-port PORT     serve HTTP /readyz and /healthz on this TCP port, default 0 (off)
          --health-address IP    address of the health listener, default 127.0.0.1
          --metrics-address IP:PORT  serve Prometheus metrics on http://IP:PORT/metrics,
                                 e.g. 0.0.0.0:9809, :9809 (the same) or [::]:9809; default off
          --metrics-interval SECONDS  how often the controller reads pool and volume metrics
                                 (one zpool and one zfs listing), default 30

        node plugin (--mode node|both):
          --data-root PATH       where this node sees the pool's root (dataset data/k8s/v is
                                 PATH/k8s/v), default /data
          --kubelet-dir PATH     target paths must be inside it, default /var/lib/kubelet
          --fs-timeout SECONDS   a stat/statvfs on the data root or a target slower than this
                                 means the data root is dead, default 2
          --sshfs-remote USER@HOST:/PATH  mount the data root over SSHFS and keep it mounted
          --sshfs-port PORT      SSH port, default 22
          --sshfs-identity PATH  private key for SSHFS (required with --sshfs-remote)
          --sshfs-known-hosts PATH  known_hosts pinning the host key (required with
                                 --sshfs-remote; host key checking is never turned off)
          --sshfs-check-interval SECONDS  how often the SSHFS mount is checked, default 5
          --sshfs-connect-timeout SECONDS  ssh's ConnectTimeout for each mount, default 5
          --sshfs-alive-interval SECONDS   ssh's ServerAliveInterval, default 2
          --sshfs-alive-count N  ssh's ServerAliveCountMax (a link silent for interval x N is
                                 dead and sshfs reconnects), default 3; raise both for a slow
                                 storage host (a VM under emulation), not for a real network
          --bind-check-interval SECONDS  how often every published bind is checked against its
                                 dataset being mounted on the pool's host (a bind of an unmounted
                                 dataset is cut so writes cannot land in the parent), 0.1 to 60,
                                 default 2
        """;

    public static DriverOptions Parse(IReadOnlyList<string> args)
    {
        var o = new DriverOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!Flags.TryRead(args, ref i, out var key, out var value))
            {
                throw new OptionsException($"unexpected argument '{arg}'");
            }
            switch (key)
            {
                case "--endpoint":
                    o.Endpoint = value;
                    break;
                case "--nodeid" or "--node-id":
                    o.NodeId = value;
                    break;
                case "--mode":
                    // Not Enum.TryParse: it also takes "controller,node" (OR-ed into Node) and numbers.
                    o.Mode = value.ToLowerInvariant() switch
                    {
                        "controller" => DriverMode.Controller,
                        "node" => DriverMode.Node,
                        "both" => DriverMode.Both,
                        _ => throw new OptionsException($"--mode '{value}': expected controller, node or both"),
                    };
                    break;
                case "--driver-name":
                    o.DriverName = value;
                    break;
                case "--parent-dataset":
                    o.Volumes.ParentDataset = value;
                    break;
                case "--zfs":
                    o.Zfs.ZfsCommand = value;
                    break;
                case "--zpool":
                    o.Zfs.ZpoolCommand = value;
                    break;
                case "--zfs-timeout":
                    // Bounded: Infinity or 1e300 would overflow TimeSpan, 1e-9 would round to a zero timeout.
                    o.Zfs.CommandTimeout =
                        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s)
                        && s is >= 0.001 and <= MaxZfsTimeoutSeconds
                            ? TimeSpan.FromSeconds(s)
                            : throw new OptionsException(
                                $"--zfs-timeout '{value}': expected a number of seconds from 0.001 to {MaxZfsTimeoutSeconds}"
                            );
                    break;
                case "--mount-lock-file":
                    o.Zfs.MountLockFile = value;
                    break;
                case "--mount-lock-timeout":
                    o.Zfs.MountLockTimeout =
                        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var lockWait)
                        && lockWait is > 0 and <= 86400
                            ? TimeSpan.FromSeconds(lockWait)
                            : throw new OptionsException(
                                $"--mount-lock-timeout '{value}': expected seconds, more than 0 and at most 86400"
                            );
                    break;
                case "--sweep-interval":
                    o.Volumes.SweepInterval =
                        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var sweep)
                        && sweep >= 0
                        && sweep <= 86400
                            ? TimeSpan.FromSeconds(sweep)
                            : throw new OptionsException(
                                $"--sweep-interval '{value}': expected 0 or a number of seconds up to 86400"
                            );
                    break;
                case "--creating-grace":
                    o.Volumes.CreatingGrace =
                        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var grace)
                        && grace is > 0 and <= 365 * 86400
                            ? TimeSpan.FromSeconds(grace)
                            : throw new OptionsException(
                                $"--creating-grace '{value}': expected a number of seconds, at most a year"
                            );
                    break;
                case "--log-format":
                    o.LogFormat = value;
                    break;
                case "--bootstrap-status-file":
                    o.BootstrapStatusFile = value;
                    break;
                case "--bootstrap-stale-after":
                    o.BootstrapStaleAfter =
                        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var stale)
                        && stale > 0
                            ? TimeSpan.FromSeconds(stale)
                            : throw new OptionsException(
                                $"--bootstrap-stale-after '{value}': expected a positive number of seconds"
                            );
                    break;
                case "--health-port":
                    o.HealthPort = int.TryParse(
                        value,
                        NumberStyles.None,
                        CultureInfo.InvariantCulture,
                        out var healthPort
                    )
                        ? healthPort
                        : throw new OptionsException(
                            $"--health-port '{value}': expected a port number (1-65535, 0 for off)"
                        );
                    break;
                case "--health-address":
                    o.HealthAddress = value;
                    break;
                case "--metrics-address":
                    o.MetricsAddress = value;
                    break;
                case "--metrics-interval":
                    o.MetricsInterval =
                        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var every)
                        && every is >= 1 and <= 86400
                            ? TimeSpan.FromSeconds(every)
                            : throw new OptionsException(
                                $"--metrics-interval '{value}': expected a number of seconds from 1 to 86400"
                            );
                    break;
                case "--data-root":
                    o.Node.DataRoot = value;
                    break;
                case "--kubelet-dir":
                    o.Node.KubeletDir = value;
                    break;
                case "--fs-timeout":
                    o.Node.CallTimeout = Seconds(key, value);
                    break;
                case "--sshfs-remote":
                    o.SshfsOrNew().Remote = value;
                    break;
                case "--sshfs-port":
                    o.SshfsOrNew().Port = int.TryParse(
                        value,
                        NumberStyles.None,
                        CultureInfo.InvariantCulture,
                        out var port
                    )
                        ? port
                        : throw new OptionsException($"--sshfs-port '{value}': expected a port number");
                    break;
                case "--sshfs-identity":
                    o.SshfsOrNew().IdentityFile = value;
                    break;
                case "--sshfs-known-hosts":
                    o.SshfsOrNew().KnownHostsFile = value;
                    break;
                case "--sshfs-check-interval":
                    o.Node.CheckInterval = Seconds(key, value);
                    break;
                case "--sshfs-connect-timeout":
                    o.SshfsOrNew().ConnectTimeout = WholeSeconds(key, value);
                    break;
                case "--sshfs-alive-interval":
                    o.SshfsOrNew().ServerAliveInterval = WholeSeconds(key, value);
                    break;
                case "--sshfs-alive-count":
                    o.SshfsOrNew().ServerAliveCountMax = WholeSeconds(key, value, "a count");
                    break;
                case "--bind-check-interval":
                    o.Node.BindCheckInterval = Seconds(key, value);
                    break;
                default:
                    throw new OptionsException($"unknown flag '{key}'");
            }
        }
        o.Validate();
        return o;
    }

    private SshfsOptions SshfsOrNew() => Node.Sshfs ??= new SshfsOptions();

    /// <summary>ssh's own options take whole numbers (ssh_config: ConnectTimeout, ServerAliveInterval, ServerAliveCountMax).</summary>
    private static int WholeSeconds(string key, string value, string what = "a whole number of seconds") =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 600
            ? n
            : throw new OptionsException($"{key} '{value}': expected {what} from 1 to 600");

    private static TimeSpan Seconds(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 && s < 3600
            ? TimeSpan.FromSeconds(s)
            : throw new OptionsException($"{key} '{value}': expected a positive number of seconds");

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
        if (LogFormat is not (ConsoleLog.Text or ConsoleLog.Json))
        {
            throw new OptionsException($"--log-format '{LogFormat}': expected text or json");
        }
        if (BootstrapStatusFile.Length > 0 && !BootstrapStatusFile.StartsWith('/'))
        {
            throw new OptionsException($"--bootstrap-status-file '{BootstrapStatusFile}': expected an absolute path");
        }
        if (HealthPort is < 0 or > 65535)
        {
            throw new OptionsException($"--health-port {HealthPort}: expected 1-65535, or 0 for no health listener");
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
