namespace ZfsCsi.Core.Volumes;

/// <summary>
/// Every StorageClass (and VolumeSnapshotClass) parameter key the driver knows, in one place.
/// The README's parameter table documents the same keys.
/// </summary>
public static class ParameterKeys
{
    /// <summary>Keys Kubernetes' sidecars add themselves (PVC name and namespace, secret references): accepted, never stored.</summary>
    public const string KubernetesPrefix = "csi.storage.k8s.io/";

    /// <summary><c>refquota</c> (default: snapshots do not count against the volume) or <c>quota</c> (they do).</summary>
    public const string QuotaType = "quotaType";

    /// <summary><c>thin</c> (default) or <c>thick</c>: thick also reserves the whole capacity in the pool.</summary>
    public const string Provisioning = "provisioning";

    public const string Compression = "compression";
    public const string RecordSize = "recordsize";
    public const string Atime = "atime";

    /// <summary>Any other ZFS property: <c>property.logbias: throughput</c>, <c>property.com.sun:auto-snapshot: "false"</c>.</summary>
    public const string PropertyPrefix = "property.";

    /// <summary>Mode of a new volume's root directory, octal (default 0777: every pod uid can write, as hostPath users expect).</summary>
    public const string RootMode = "rootMode";

    /// <summary>Owner uid and gid of a new volume's root directory (default: unchanged, root).</summary>
    public const string RootUid = "rootUid";
    public const string RootGid = "rootGid";

    /// <summary>
    /// How a volume from a snapshot is made: <c>auto</c> (default: a read-only view when every
    /// requested access mode is a reader-only one, else a clone), <c>always</c> (a view, or
    /// INVALID_ARGUMENT when that cannot be), <c>never</c> (always a clone).
    /// </summary>
    public const string View = "view";

    /// <summary>
    /// Native encryption (OpenZFS only): <c>off</c> (default), <c>on</c> or a cipher
    /// (zfsprops(7), "encryption"). The key comes from CreateVolume's secrets (<see cref="EncryptionKey.SecretKey"/>).
    /// </summary>
    public const string Encryption = "encryption";

    /// <summary>How the secret gives the key: <c>passphrase</c> (default), <c>hex</c> or <c>raw</c> (base64 in the secret).</summary>
    public const string KeyFormat = "keyFormat";
}
