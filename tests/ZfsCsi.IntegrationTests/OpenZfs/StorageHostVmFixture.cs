using Csi.V1;
using Grpc.Core;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.OpenZfs;

/// <summary>
/// A storage host VM of these tests' own (lab/vm, state /run/zfs-csi-lab/itvm): Debian's kernel,
/// OpenZFS 2.3 as a kernel module, pool "data" on four fresh virtio disks (two mirrors), the
/// published driver and bootstrap. Tests reboot it, cut its power and pull its disks; the VM and its
/// disks are removed at the end. Needs the VM: when it cannot boot, every test fails with the reason.
/// </summary>
public class StorageHostVmFixture : IAsyncLifetime
{
    // xunit builds a collection fixture through its one public constructor.
    public StorageHostVmFixture()
        : this("/run/zfs-csi-lab/itvm") { }

    protected StorageHostVmFixture(string state)
    {
        Vm = new LabVm(state);
        RunDirectory = Path.Combine("/tmp/zfs-csi-tests", $"{Path.GetFileName(state)}-{Environment.ProcessId}");
    }

    public LabVm Vm { get; }

    public VmStorageHost Host => new(Vm);

    /// <summary>The bootstrap's status file, in the VM's 9p share: the driver in the VM and the tests read the same file.</summary>
    public const string StatusFile = "/lab/out/bootstrap.json";

    /// <summary><see cref="StatusFile"/> as this machine sees it.</summary>
    public string HostStatusFile => Path.Combine(Vm.State, "share", "out", "bootstrap.json");

    /// <summary>Forwarded driver sockets of these tests (on this machine).</summary>
    public string RunDirectory { get; }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(RunDirectory);
        await Vm.DownAsync(wipe: true);
        await Vm.InstallAsync();
        await Vm.UpAsync();
    }

    public async Task DisposeAsync()
    {
        await Vm.DownAsync(hard: true, wipe: true);
        Directory.Delete(RunDirectory, recursive: true);
    }

    /// <summary>A clean reboot into <paramref name="kernel"/>: the pool is exported at shutdown unless <paramref name="keepPoolImported"/>.</summary>
    public async Task RebootAsync(string kernel = "6.1", bool keepPoolImported = false)
    {
        await Vm.DownAsync(keepPoolImported: keepPoolImported);
        await Vm.UpAsync(kernel);
    }

    /// <summary>Runs zfs-csi-bootstrap once in the VM with <paramref name="flags"/>; its exit code and output.</summary>
    public Task<(int ExitCode, string Output)> BootstrapOnceAsync(params string[] flags) =>
        BootstrapOnceAsync([], flags);

    /// <summary>The same, with NAME=VALUE <paramref name="environment"/> set for it (env(1)).</summary>
    public async Task<(int ExitCode, string Output)> BootstrapOnceAsync(
        IReadOnlyList<string> environment,
        params string[] flags
    )
    {
        string[] bootstrap = [VmStorageHost.GuestBootstrap, "once", "--pool", VmStorageHost.PoolName, .. flags];
        var result =
            environment.Count == 0
                ? await Vm.RunAsync(bootstrap[0], bootstrap[1..], TimeSpan.FromMinutes(120))
                : await Vm.RunAsync("env", [.. environment, .. bootstrap], TimeSpan.FromMinutes(120));
        return (result.ExitCode, result.StandardOutput + result.StandardError);
    }

    /// <summary>
    /// The host's rebuild, as the seed's boot script would run it after a kernel update: from the
    /// OpenZFS tree in the image, kernel module only (the userland is Debian's zfsutils-linux of the
    /// same release, as with dkms), with /usr/lib/ccache first on PATH and configure's cache file:
    /// lab/vm/image ran this same build once, so compiles and kernel checks come from those caches.
    /// </summary>
    public Task<(int ExitCode, string Output)> RebuildAsync() =>
        BootstrapOnceAsync(
            ["PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin"],
            "--source",
            "/root/src/zfs-2.3.2",
            "--configure-arg",
            "--with-config=kernel",
            "--configure-arg",
            "--cache-file=/var/cache/zfs-csi-lab/configure.cache",
            "--attempts",
            "1",
            "--build-timeout",
            "7200",
            "--import-mount",
            "all",
            "--status-file",
            StatusFile
        );

    /// <summary>A controller in the VM gated by <see cref="StatusFile"/>, not waited for: it is not ready until the bootstrap is.</summary>
    public Task<DriverProcess> StartGatedDriverAsync() =>
        DriverProcess.StartOnAsync(
            Host,
            RunDirectory,
            $"gated-{Guid.NewGuid():N}"[..14],
            ["--mode", "controller", "--parent-dataset", "data/k8s", "--bootstrap-status-file", StatusFile],
            untilReady: false
        );

    /// <summary>Module loaded and pool imported (the bootstrap runs when they are not): for tests that start from a ready host.</summary>
    public async Task EnsurePoolReadyAsync()
    {
        if (await PoolHealthAsync() != "ONLINE")
        {
            var (exitCode, output) = await BootstrapOnceAsync(
                "--import-mount",
                "all",
                "--no-rebuild",
                "--status-file",
                ""
            );
            Assert.True(exitCode == 0, $"bootstrap exited {exitCode}:\n{output}");
        }
    }

    /// <summary>The zfs module's version as the VM's kernel reports it; null when it is not loaded.</summary>
    public async Task<string?> LoadedModuleAsync()
    {
        var result = await Vm.RunAsync("cat", ["/sys/module/zfs/version"]);
        return result.ExitCode == 0 ? result.StandardOutput.Trim() : null;
    }

    /// <summary>The pool's health, or null when it is not imported. On OpenZFS this zpool command loads the module.</summary>
    public async Task<string?> PoolHealthAsync()
    {
        var result = await Vm.RunAsync("zpool", ["list", "-H", "-o", "health", VmStorageHost.PoolName]);
        return result.ExitCode == 0 ? result.StandardOutput.Trim() : null;
    }

    public static async Task<bool?> ProbeAsync(DriverProcess driver)
    {
        using var channel = UnixSocketChannel.Create(driver.SocketPath);
        try
        {
            return (
                await new Identity.IdentityClient(channel).ProbeAsync(
                    new ProbeRequest(),
                    deadline: DateTime.UtcNow.AddSeconds(30)
                )
            ).Ready;
        }
        catch (RpcException)
        {
            return null;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class StorageHostVmCollection : ICollectionFixture<StorageHostVmFixture>
{
    public const string Name = "openzfs storage host VM";
}

/// <summary>
/// The kernel-update rebuild's own VM (state /run/zfs-csi-lab/rebuild): lab/test runs that test in
/// the background beside the other suites, so it must not share their VM.
/// </summary>
public sealed class RebuildVmFixture : StorageHostVmFixture
{
    public RebuildVmFixture()
        : base("/run/zfs-csi-lab/rebuild") { }
}

[CollectionDefinition(Name)]
public sealed class RebuildVmCollection : ICollectionFixture<RebuildVmFixture>
{
    public const string Name = "openzfs kernel-update rebuild VM";
}
