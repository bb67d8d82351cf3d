namespace ZfsCsi.Core.Mount;

/// <summary>
/// What the last look at the node's /data found. <paramref name="Disconnected"/>: its FUSE daemon
/// is gone (ENOTCONN); <see cref="Hung"/>: the look got no answer within the deadline.
/// </summary>
public sealed record DataRootState(bool Alive, string Reason, MountEntry? Mount, bool Disconnected = false)
{
    public bool Hung { get; init; }

    public static DataRootState Dead(string reason, MountEntry? mount, bool disconnected = false) =>
        new(false, reason, mount, disconnected);
}
