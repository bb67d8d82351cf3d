namespace ZfsCsi.Core.Mount;

/// <summary>What the last look at the node's /data found.</summary>
public sealed record DataRootState(bool Alive, string Reason, MountEntry? Mount, bool Disconnected = false)
{
    public static DataRootState Dead(string reason, MountEntry? mount, bool disconnected = false) =>
        new(false, reason, mount, disconnected);
}
