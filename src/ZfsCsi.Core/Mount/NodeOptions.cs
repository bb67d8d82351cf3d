namespace ZfsCsi.Core.Mount;

/// <summary>Where this node sees the pool and the pods, and how it reaches the storage host. Checked at start-up.</summary>
public sealed class NodeOptions
{
    /// <summary>Where this node sees the storage host's pool root: dataset data/k8s/pvc-1 is &lt;DataRoot&gt;/k8s/pvc-1.</summary>
    public string DataRoot { get; set; } = "/data";

    /// <summary>Targets must be inside this directory (kubelet's --root-dir).</summary>
    public string KubeletDir { get; set; } = "/var/lib/kubelet";

    /// <summary>How long any filesystem call on /data or a target may take before /data counts as dead.</summary>
    public TimeSpan CallTimeout { get; set; } = Deadline.Default;

    /// <summary>When set, the node plugin mounts /data itself over SSHFS and keeps it mounted.</summary>
    public SshfsOptions? Sshfs { get; set; }

    /// <summary>How often the SSHFS mount is checked (and re-established) in the background.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often every published bind is checked against its dataset being mounted on the pool's
    /// host (<see cref="NodeVolumes.GuardOnceAsync"/>): the longest time a pod's writes can land in
    /// the parent dataset after its dataset is unmounted. Short on purpose.
    /// </summary>
    public TimeSpan BindCheckInterval { get; set; } = DefaultBindCheckInterval;

    public static readonly TimeSpan DefaultBindCheckInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MinBindCheckInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxBindCheckInterval = TimeSpan.FromSeconds(60);
}
