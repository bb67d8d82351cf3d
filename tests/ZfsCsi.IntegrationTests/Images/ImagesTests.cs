using System.Text.Json;
using CliWrap;
using CliWrap.Buffered;
using ZfsCsi.IntegrationTests.Deploy;
using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.Images;

/// <summary>
/// The images deploy/images/build makes (cached by it: a run with nothing changed takes seconds),
/// each unpacked with umoci into a directory of its own that is removed afterwards.
/// </summary>
public sealed class BuiltImages : IAsyncLifetime
{
    private readonly string _work = $"/var/tmp/zfs-csi-images-test-{Guid.NewGuid():N}";

    public string Output { get; private set; } = "";
    public string Version { get; private set; } = "";
    public IReadOnlyDictionary<string, Image> Images { get; private set; } = new Dictionary<string, Image>();

    public sealed record Image(
        string Name,
        IReadOnlyList<string> Tags,
        string Digest,
        string Layout,
        string Rootfs,
        IReadOnlyList<string> Entrypoint,
        long CompressedSize,
        string ZfsutilsVersion
    );

    public async Task InitializeAsync()
    {
        var build = await ImageCommands.RunAsync(TimeSpan.FromMinutes(30), Repository.PathOf("deploy/images/build"));
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"deploy/images/build exited {build.ExitCode}: {build.StandardError.Trim()}"
            );
        }
        Output = build.StandardOutput.Trim();
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Output, "images.json")));
        Version = json.RootElement.GetProperty("version").GetString()!;
        Directory.CreateDirectory(_work);
        var images = new Dictionary<string, Image>();
        foreach (var image in json.RootElement.GetProperty("images").EnumerateArray())
        {
            var name = image.GetProperty("name").GetString()!;
            var tags = image.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();
            var layout = Path.Combine(Output, name);
            var bundle = Path.Combine(_work, name);
            await CheckAsync("umoci", "unpack", "--image", $"{layout}:{tags[0]}", bundle);
            // A container runtime gives the container a /dev; a chroot of the bare tree has none, and
            // ssh opens /dev/null before anything else.
            await CheckAsync("mknod", "-m", "666", Path.Combine(bundle, "rootfs/dev/null"), "c", "1", "3");
            using var runtimeConfig = JsonDocument.Parse(
                await File.ReadAllTextAsync(Path.Combine(bundle, "config.json"))
            );
            var entrypoint = runtimeConfig
                .RootElement.GetProperty("process")
                .GetProperty("args")
                .EnumerateArray()
                .Select(a => a.GetString()!)
                .ToList();
            images[name] = new Image(
                name,
                tags,
                image.GetProperty("digest").GetString()!,
                layout,
                Path.Combine(bundle, "rootfs"),
                entrypoint,
                image.GetProperty("compressedSize").GetInt64(),
                image.GetProperty("zfsutils").GetString()!
            );
        }
        Images = images;
    }

    public async Task DisposeAsync()
    {
        await ImageCommands.RunAsync(TimeSpan.FromMinutes(2), "rm", "-rf", "--one-file-system", _work);
    }

    private static async Task CheckAsync(string program, params string[] args)
    {
        var result = await ImageCommands.RunAsync(TimeSpan.FromMinutes(5), program, args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardError.Trim()}"
            );
        }
    }
}

public static class ImageCommands
{
    public static async Task<BufferedCommandResult> RunAsync(TimeSpan limit, string program, params string[] args)
    {
        using var timeout = new CancellationTokenSource(limit);
        return await Cli.Wrap(program)
            .WithArguments(args)
            .WithValidation(CommandResultValidation.None)
            .WithEnvironmentVariables(e => e.Set("LC_ALL", "C"))
            .ExecuteBufferedAsync(timeout.Token);
    }

    /// <summary>
    /// A program of the image, run in a chroot of its root filesystem with a network namespace of
    /// its own (only a loopback that is down): what runs cannot reach a registry or anything else.
    /// </summary>
    public static Task<BufferedCommandResult> InImageAsync(string rootfs, params string[] argv) =>
        RunAsync(TimeSpan.FromSeconds(60), "unshare", ["--net", "chroot", rootfs, .. argv]);
}

/// <summary>
/// deploy/images/build's images, checked the way a container runtime would start them but without
/// one: the entrypoint from the image config run in a chroot of the unpacked root filesystem with no
/// network, printing its usage and rejecting an unknown flag with exit code 2, the tools each image
/// carries answering from inside it, and podman (no network) starting the same entrypoints from the
/// OCI layout. The manifests reference exactly the tags the build produces.
/// </summary>
public sealed class ImagesTests(BuiltImages built) : IClassFixture<BuiltImages>
{
    public static readonly TheoryData<string> ImageNames = new() { "zfs-csi-driver", "zfs-csi-bootstrap" };

    [Theory]
    [MemberData(nameof(ImageNames))]
    public async Task Each_image_starts_its_entrypoint_without_a_network_and_parses_its_flags(string name)
    {
        var image = built.Images[name];
        Assert.Equal([$"/usr/local/bin/{name}"], image.Entrypoint);

        var help = await ImageCommands.InImageAsync(image.Rootfs, [.. image.Entrypoint, "--help"]);
        Assert.True(help.ExitCode == 0, $"{name} --help exited {help.ExitCode}: {help.StandardError}");
        Assert.StartsWith($"{name}: ", help.StandardOutput);
        Assert.Contains("--log-format", help.StandardOutput);

        // The tag names the release the program says it is.
        var version = await ImageCommands.InImageAsync(image.Rootfs, [.. image.Entrypoint, "--version"]);
        Assert.True(version.ExitCode == 0, $"{name} --version exited {version.ExitCode}: {version.StandardError}");
        Assert.StartsWith($"{name} {built.Version}", version.StandardOutput);

        var wrong = await ImageCommands.InImageAsync(image.Rootfs, [.. image.Entrypoint, "--no-such-flag", "1"]);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("--no-such-flag", wrong.StandardError);
    }

    [Theory]
    [MemberData(nameof(ImageNames))]
    public async Task Each_image_carries_zfs_and_zpool_of_the_zfsutils_it_was_built_with(string name)
    {
        var image = built.Images[name];
        // `zfs version` asks the kernel module too and fails without /dev/zfs; the usage is the
        // userland's own answer (exit 0 for -?, as zfs(8) says).
        var zfs = await ImageCommands.InImageAsync(image.Rootfs, "zfs", "-?");
        Assert.True(zfs.ExitCode == 0, $"zfs -? in {name} exited {zfs.ExitCode}: {zfs.StandardError}");
        Assert.Contains("usage: zfs command args", zfs.StandardOutput);
        var zpool = await ImageCommands.InImageAsync(image.Rootfs, "zpool", "-?");
        Assert.True(zpool.ExitCode == 0, $"zpool -? in {name} exited {zpool.ExitCode}: {zpool.StandardError}");
        Assert.Contains("usage: zpool command args", zpool.StandardOutput);

        // --version prints the userland's release before it asks the module (deploy/bootstrap/README.md,
        // "Why zfs --version"): Debian's package version, the release the storage host's module must be.
        var version = await ImageCommands.InImageAsync(image.Rootfs, "zfs", "--version");
        Assert.Equal($"zfs-{image.ZfsutilsVersion}", version.StandardOutput.Split('\n')[0]);
        Assert.Matches(@"^2\.\d+\.\d+-", image.ZfsutilsVersion);
        var packages = await File.ReadAllTextAsync(Path.Combine(image.Rootfs, "var/lib/dpkg/zfs-csi-packages.txt"));
        Assert.Contains($"zfsutils-linux={image.ZfsutilsVersion}\n", packages);
    }

    [Fact]
    public async Task The_driver_image_carries_sshfs_and_ssh_for_the_node_plugin()
    {
        var rootfs = built.Images["zfs-csi-driver"].Rootfs;
        var sshfs = await ImageCommands.InImageAsync(rootfs, "sshfs", "--version");
        Assert.True(sshfs.ExitCode == 0, $"sshfs --version exited {sshfs.ExitCode}: {sshfs.StandardError}");
        Assert.Contains("SSHFS version 3.", sshfs.StandardOutput + sshfs.StandardError);
        Assert.Contains("FUSE library version 3.", sshfs.StandardOutput + sshfs.StandardError);

        var ssh = await ImageCommands.InImageAsync(rootfs, "ssh", "-V");
        Assert.True(ssh.ExitCode == 0, $"ssh -V exited {ssh.ExitCode}: {ssh.StandardError}");
        Assert.StartsWith("OpenSSH_", ssh.StandardError);
    }

    [Fact]
    public async Task The_bootstrap_image_carries_kmod_and_the_toolchain_a_module_rebuild_runs()
    {
        var rootfs = built.Images["zfs-csi-bootstrap"].Rootfs;
        foreach (var argv in new[] { new[] { "modinfo", "--version" }, ["depmod", "--version"], ["make", "--version"] })
        {
            var result = await ImageCommands.InImageAsync(rootfs, argv);
            Assert.True(
                result.ExitCode == 0,
                $"{string.Join(' ', argv)} exited {result.ExitCode}: {result.StandardError}"
            );
        }
        // ./configure runs sh, awk and cc; the kernel's module build gcc.
        var compile = await ImageCommands.InImageAsync(
            rootfs,
            "sh",
            "-c",
            "printf 'int main(void){return 0;}' > /tmp/t.c && cc -o /tmp/t /tmp/t.c && /tmp/t && echo | awk '{print \"awk ok\"}'"
        );
        Assert.True(
            compile.ExitCode == 0,
            $"compiling in the bootstrap image exited {compile.ExitCode}: {compile.StandardError}"
        );
        Assert.Contains("awk ok", compile.StandardOutput);
    }

    [Theory]
    [MemberData(nameof(ImageNames))]
    public async Task Podman_starts_each_image_from_the_oci_layout_with_no_network(string name)
    {
        var image = built.Images[name];
        // Short: podman refuses a runroot longer than 50 characters.
        var root = $"/var/tmp/zfs-csi-podman-{Guid.NewGuid().ToString("N")[..12]}";
        try
        {
            // runc: Debian's crun 1.8 refuses this machine's hybrid cgroup hierarchy. The ulimits:
            // podman otherwise raises RLIMIT_NOFILE to 1048576, which needs CAP_SYS_RESOURCE, not in
            // this machine's bounding set. vfs in a storage root of its own: nothing is left behind.
            var run = await ImageCommands.RunAsync(
                TimeSpan.FromMinutes(5),
                "podman",
                "--root",
                $"{root}/storage",
                "--runroot",
                $"{root}/run",
                "--storage-driver",
                "vfs",
                "--runtime",
                "runc",
                "run",
                "--rm",
                "--network",
                "none",
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
                $"oci:{image.Layout}:{image.Tags[0]}",
                "--help"
            );
            Assert.True(run.ExitCode == 0, $"podman run {name} --help exited {run.ExitCode}: {run.StandardError}");
            Assert.StartsWith($"{name}: ", run.StandardOutput);
        }
        finally
        {
            await ImageCommands.RunAsync(TimeSpan.FromMinutes(2), "rm", "-rf", "--one-file-system", root);
        }
    }

    [Theory]
    [MemberData(nameof(ImageNames))]
    public async Task The_layout_tags_the_image_with_the_version_and_the_commit_and_images_json_names_its_digest(
        string name
    )
    {
        var image = built.Images[name];
        Assert.Equal(built.Version, image.Tags[0]);
        Assert.Matches(
            $@"^{System.Text.RegularExpressions.Regex.Escape(built.Version)}-g[0-9a-f]{{12}}(-dirty)?$",
            image.Tags[1]
        );
        using var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(image.Layout, "index.json")));
        foreach (var tag in image.Tags)
        {
            var entry = index
                .RootElement.GetProperty("manifests")
                .EnumerateArray()
                .Single(m =>
                    m.TryGetProperty("annotations", out var a)
                    && a.GetProperty("org.opencontainers.image.ref.name").GetString() == tag
                );
            Assert.Equal(image.Digest, entry.GetProperty("digest").GetString());
        }
        var manifestPath = Path.Combine(image.Layout, "blobs/sha256", image.Digest["sha256:".Length..]);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(manifestPath));
        var sizes =
            manifest.RootElement.GetProperty("config").GetProperty("size").GetInt64()
            + manifest.RootElement.GetProperty("layers").EnumerateArray().Sum(l => l.GetProperty("size").GetInt64());
        Assert.Equal(image.CompressedSize, sizes);
    }

    [Theory]
    [MemberData(nameof(ManifestTests.Kustomizations), MemberType = typeof(ManifestTests))]
    public async Task The_manifests_reference_the_tags_the_build_produces(string kustomization)
    {
        var objects = await Kustomize.RenderAsync(kustomization);
        var ours = PodView
            .All(objects)
            .SelectMany(p => p.Containers)
            .Where(c => built.Images.ContainsKey(c.ImageName))
            .ToList();
        Assert.Contains(ours, c => c.ImageName == "zfs-csi-driver");
        Assert.Contains(ours, c => c.ImageName == "zfs-csi-bootstrap");
        Assert.All(ours, c => Assert.Equal($"{c.ImageName}:{built.Images[c.ImageName].Tags[0]}", c.Image));
    }
}
