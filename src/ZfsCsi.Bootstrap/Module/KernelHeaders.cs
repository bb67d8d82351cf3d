namespace ZfsCsi.Bootstrap.Module;

/// <summary>
/// The headers of the RUNNING kernel: <c>/lib/modules/&lt;release&gt;/build</c> (the object tree,
/// <c>--with-linux-obj</c>) and <c>/source</c> (<c>--with-linux</c>; the build tree when absent).
/// Never those of another release: after an update that installed newer headers but before the
/// reboot, building against them would produce a module the running kernel cannot load.
/// </summary>
public sealed record KernelHeaders(string Release, string Source, string Objects)
{
    public static KernelHeaders Find(string modulesDirectory, string release)
    {
        var root = Path.Combine(modulesDirectory, release);
        var build = Path.Combine(root, "build");
        var source = Path.Combine(root, "source");
        if (!Directory.Exists(build))
        {
            var others = OtherReleasesWithHeaders(modulesDirectory, release);
            throw new BootstrapException(
                "kernel headers",
                $"no kernel headers for the running kernel {release} ({build} is missing): install linux-headers-{release} or reboot into the new kernel"
                    + (
                        others.Count > 0
                            ? $" (headers are installed for {string.Join(", ", others)}, which is not the running kernel)"
                            : ""
                    )
            );
        }
        return new KernelHeaders(release, Directory.Exists(source) ? source : build, build);
    }

    /// <summary>Releases other than the running one that have headers: a pending reboot, worth saying.</summary>
    public static IReadOnlyList<string> OtherReleasesWithHeaders(string modulesDirectory, string release) =>
        Directory.Exists(modulesDirectory)
            ?
            [
                .. Directory
                    .EnumerateDirectories(modulesDirectory)
                    .Select(Path.GetFileName)
                    .OfType<string>()
                    .Where(r => r != release && Directory.Exists(Path.Combine(modulesDirectory, r, "build")))
                    .Order(StringComparer.Ordinal),
            ]
            : [];
}
