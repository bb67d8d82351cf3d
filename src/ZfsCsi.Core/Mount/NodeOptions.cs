namespace ZfsCsi.Core.Mount;

/// <summary>Where this node sees the pool and the pods, and how it reaches alice. Checked at start-up.</summary>
public sealed class NodeOptions
{
    /// <summary>Where this node sees alice's pool root: dataset data/k8s/pvc-1 is &lt;DataRoot&gt;/k8s/pvc-1.</summary>
    public string DataRoot { get; set; } = "/data";

    /// <summary>Targets must be inside this directory (kubelet's --root-dir).</summary>
    public string KubeletDir { get; set; } = "/var/lib/kubelet";

    /// <summary>How long any filesystem call on /data or a target may take before /data counts as dead.</summary>
    public TimeSpan CallTimeout { get; set; } = Deadline.Default;

    /// <summary>When set, the node plugin mounts /data itself over SSHFS and keeps it mounted.</summary>
    public SshfsOptions? Sshfs { get; set; }

    /// <summary>How often the SSHFS mount is checked (and re-established) in the background.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}
