namespace ZfsCsi.Bootstrap.Module;

/// <summary>What is on the machine: the running kernel, the zfs module installed for it, the one loaded, the userland tools.</summary>
public sealed record ModuleState(string Release, string? Installed, string? Loaded, string? Userland, string? UserlandError)
{
    /// <summary>A build is needed when no module is installed for this kernel, or the installed one is another release than the tools.</summary>
    public bool NeedsBuild => Installed is null || (Userland is not null && !ZfsVersion.SameRelease(Installed, Userland));

    public string Describe() =>
        $"kernel {Release}, module installed {Installed ?? "none"}, loaded {Loaded ?? "none"}, userland {Userland ?? "unknown"}";
}
