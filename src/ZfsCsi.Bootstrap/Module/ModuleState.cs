using ZfsCsi.Core.Bootstrap;

namespace ZfsCsi.Bootstrap.Module;

/// <summary>
/// What is on the machine: the running kernel, the zfs module installed for it (modinfo), the one
/// loaded (/sys/module/zfs/version), the userland tools (<c>zfs --version</c>, or the source tree's
/// META when the tools cannot say) and the release the source tree builds.
/// </summary>
public sealed record ModuleState(
    string Release,
    string? Installed,
    string? Loaded,
    string? Userland,
    string? UserlandFrom,
    string? UserlandError,
    string? SourceVersion
)
{
    /// <summary>
    /// A build would be needed: nothing loaded, and either no module is installed for this kernel
    /// or the installed one is another release than the tools. Never while a module is loaded: a
    /// build cannot change the loaded module (only a reload can, and the bootstrap never unloads
    /// one under the pool), it can only break the files the next boot loads.
    /// </summary>
    public bool NeedsBuild =>
        Loaded is null && (Installed is null || (Userland is not null && !ZfsVersion.SameRelease(Installed, Userland)));

    /// <summary>Why <see cref="NeedsBuild"/>, in a few words.</summary>
    public string BuildReason =>
        Installed is null
            ? $"no zfs module is installed for kernel {Release}"
            : $"the zfs module installed for kernel {Release} is {Installed} but the userland is {Userland}";

    public string Describe() =>
        $"kernel {Release}, module installed {Installed ?? "none"}, loaded {Loaded ?? "none"}, userland {Userland ?? "unknown"}"
        + (UserlandFrom is { } from && from != ModuleBootstrapper.ZfsVersionCommand ? $" (from {from})" : "")
        + (SourceVersion is { } s ? $", source tree {s}" : "");
}
