namespace ZfsCsi.Core.Mount;

/// <summary>
/// How many targets on one node may hold a volume at once, from the access mode of the publish
/// (CSI spec, NodePublishVolume, the table for plugins with SINGLE_NODE_MULTI_WRITER): one for
/// SINGLE_NODE_SINGLE_WRITER (Kubernetes' ReadWriteOncePod), any number for every other mode.
/// </summary>
public enum TargetSharing
{
    /// <summary>Any number of targets (MULTI_NODE_*, SINGLE_NODE_MULTI_WRITER, and the older SINGLE_NODE_WRITER and SINGLE_NODE_READER_ONLY).</summary>
    Shared,

    /// <summary>At most one target on this node (SINGLE_NODE_SINGLE_WRITER): a second one is FAILED_PRECONDITION.</summary>
    SingleTarget,
}

/// <summary>
/// Where this node has a volume published, read from the mount table alone: what is mounted is
/// the node's real state, the same before and after a plugin restart, and nothing is kept in
/// memory that a restart could lose. A volume is published at every mount point under the
/// kubelet directory whose top mount is a bind of the volume's directory (also one of an earlier
/// SSHFS mount that died: kubelet has not unpublished it) or the fence left where such a bind was
/// cut (<see cref="Fence"/>). Pure: tests feed it captured mountinfo.
/// </summary>
public static class PublishedTargets
{
    /// <param name="source">The volume's directory as a bind of it shows in mountinfo (<see cref="MountTable.SourceOf"/>).</param>
    public static IReadOnlyList<string> Of(MountTable table, BindSource source, string volumeId, string kubeletDir)
    {
        var root = kubeletDir.TrimEnd('/') + "/";
        return table
            .Entries.Where(e =>
                e.MountPoint.StartsWith(root, StringComparison.Ordinal)
                && table.At(e.MountPoint)[^1] == e
                && (Fence.Is(e) ? Fence.VolumeOf(e) == volumeId : source.IsBindOfSameDirectory(e))
            )
            .Select(e => e.MountPoint)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
