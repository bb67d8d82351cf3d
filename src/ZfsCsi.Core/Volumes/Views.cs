using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// Whether a CreateVolume makes a read-only view of its snapshot (README, "Read-only views"): backup
/// tools (Velero's data mover, Kasten) read a VolumeSnapshot through a ReadOnlyMany PVC made from
/// it, and a view serves that with nothing to copy and nothing that can be written.
/// </summary>
public static class Views
{
    /// <summary>
    /// The volume_context key (CSI spec, Volume.volume_context: the CO passes it to every
    /// NodePublishVolume of the volume) that tells the node a volume is a view, so a writer access
    /// mode is refused there instead of giving the pod a volume it cannot write.
    /// </summary>
    public const string ContextKey = "zfs.csi.dev/view";

    /// <summary>
    /// A view when the source is a snapshot and either the StorageClass says <c>view: always</c> or
    /// (<c>auto</c>) every requested access mode is a reader-only one: nothing asked for could write,
    /// so a writable clone would only pin the snapshot for nothing. <c>always</c> with a request a
    /// view cannot serve is INVALID_ARGUMENT, checked before anything is looked up.
    /// </summary>
    public static bool Decide(ViewMode mode, ContentSource? source, bool everyModeReaderOnly)
    {
        switch (mode)
        {
            case ViewMode.Never:
                return false;
            case ViewMode.Auto:
                return source is { Kind: ContentSourceKind.Snapshot } && everyModeReaderOnly;
        }
        if (source is not { Kind: ContentSourceKind.Snapshot })
        {
            throw new InvalidInputException(
                $"the StorageClass asks for a read-only view ({ParameterKeys.View}: always), which is made from a VolumeSnapshot; this request has "
                    + (source is null ? "no content source" : $"volume {Printable.Of(source.Id)} as its source")
                    + $". Give the PVC a VolumeSnapshot as dataSource, or use a StorageClass with {ParameterKeys.View}: auto"
            );
        }
        if (!everyModeReaderOnly)
        {
            throw new InvalidInputException(
                $"the StorageClass asks for a read-only view ({ParameterKeys.View}: always), but the request has a writer access mode; "
                    + $"ask for ReadOnlyMany (MULTI_NODE_READER_ONLY; SINGLE_NODE_READER_ONLY from other COs), or use a StorageClass with {ParameterKeys.View}: auto for a writable clone"
            );
        }
        return true;
    }
}
