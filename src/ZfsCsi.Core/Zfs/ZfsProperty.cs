namespace ZfsCsi.Core.Zfs;

/// <summary>One row of <c>zfs get -H -p -o name,property,value,source</c>.</summary>
public sealed record ZfsProperty(string Dataset, string Name, string Value, string Source)
{
    /// <summary>Set on this dataset itself (not inherited, not a default): the driver's own markers.</summary>
    public bool IsLocal => Source == "local";
}
