using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;

namespace ZfsCsi.LabHosts;

/// <summary>
/// The machine the pool lives on and the controller runs on, as the suite sees it: this machine
/// with zfs-fuse (the default), or the lab's storage host VM with the OpenZFS kernel module
/// (<c>ZFS_CSI_BACKEND=openzfs</c>, <c>ZFS_CSI_VM_STATE=</c> the directory of <c>lab/vm/up</c>). The same
/// tests run on both; only where commands run and how the driver is started differ.
/// </summary>
public abstract class StorageHost
{
    public const string BackendVariable = "ZFS_CSI_BACKEND";
    public const string VmStateVariable = "ZFS_CSI_VM_STATE";

    public static StorageHost Current { get; } = Choose();

    /// <summary>"zfs-fuse" or "openzfs": what the suite's output and failure messages name.</summary>
    public abstract string Backend { get; }

    /// <summary>Runs a program on the storage host (argv only; over SSH every word is quoted).</summary>
    public abstract Task<BufferedCommandResult> RunAsync(
        string program,
        IEnumerable<string> args,
        TimeSpan? timeout = null,
        string? input = null
    );

    /// <summary>How to start the driver on the storage host with <paramref name="driverArgs"/>, its socket reachable at <paramref name="localSocket"/> here.</summary>
    public abstract ProcessStartInfo DriverStartInfo(string localSocket, IReadOnlyList<string> driverArgs);

    /// <summary>Runs and requires exit code 0; the exception names the backend, argv, exit code and stderr.</summary>
    public async Task<string> CheckAsync(string program, params string[] args)
    {
        var result = await RunAsync(program, args);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException(
                $"{Backend}: {program} {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardError.Trim()}"
            );
    }

    private static StorageHost Choose()
    {
        var backend = Environment.GetEnvironmentVariable(BackendVariable);
        return backend switch
        {
            null or "" or "zfs-fuse" => new LocalStorageHost(),
            "openzfs" => VmStorageHost.FromEnvironment(),
            _ => throw new InvalidOperationException($"{BackendVariable}={backend}: expected zfs-fuse or openzfs"),
        };
    }

    /// <summary>Runs a program on this machine (argv only, LC_ALL=C, with a timeout: 120 s unless given).</summary>
    public static async Task<BufferedCommandResult> RunHereAsync(
        string program,
        IEnumerable<string> args,
        TimeSpan? timeout,
        string? input
    )
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        using var cts = new CancellationTokenSource(limit);
        var command = Cli.Wrap(program)
            .WithArguments(args)
            .WithValidation(CommandResultValidation.None)
            .WithEnvironmentVariables(e => e.Set("LC_ALL", "C"));
        if (input is not null)
        {
            command = command.WithStandardInputPipe(PipeSource.FromString(input));
        }
        try
        {
            return await command.ExecuteBufferedAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException(
                $"{program} {string.Join(' ', args)} did not finish within {limit.TotalSeconds} s"
            );
        }
    }
}

/// <summary>zfs-fuse on this machine: commands run here, the driver is a local process.</summary>
public sealed class LocalStorageHost : StorageHost
{
    public override string Backend => "zfs-fuse";

    public override Task<BufferedCommandResult> RunAsync(
        string program,
        IEnumerable<string> args,
        TimeSpan? timeout = null,
        string? input = null
    ) => RunHereAsync(program, args, timeout, input);

    public override ProcessStartInfo DriverStartInfo(string localSocket, IReadOnlyList<string> driverArgs)
    {
        var driver = RepoLayout.DriverCommand();
        var info = new ProcessStartInfo(driver[0]);
        foreach (var a in driver.Skip(1))
        {
            info.ArgumentList.Add(a);
        }
        info.ArgumentList.Add("--endpoint");
        info.ArgumentList.Add($"unix://{localSocket}");
        foreach (var a in driverArgs)
        {
            info.ArgumentList.Add(a);
        }
        return info;
    }
}

/// <summary>
/// The storage host VM (<c>lab/vm/up</c>): OpenZFS 2.3 as a kernel module on four virtio disks.
/// Commands run there through <c>lab/vm/ssh</c>; the driver runs there as the published
/// self-contained executable (<c>lab/vm/install</c>), its socket forwarded here over SSH.
/// </summary>
public sealed class VmStorageHost(LabVm vm) : StorageHost
{
    /// <summary>The pool the VM's disks hold (the seed's: mirror + mirror, at /data).</summary>
    public const string PoolName = "data";

    public const string PoolRoot = "/data";

    /// <summary>Where the guest sees the published driver and bootstrap (the VM's 9p share).</summary>
    public const string GuestDriver = "/lab/driver/zfs-csi-driver";

    public const string GuestBootstrap = "/lab/bootstrap/zfs-csi-bootstrap";

    public LabVm Vm { get; } = vm;

    public override string Backend => "openzfs";

    public static VmStorageHost FromEnvironment()
    {
        var state = Environment.GetEnvironmentVariable(VmStateVariable);
        var vm = new LabVm(state ?? "");
        if (string.IsNullOrEmpty(state) || !vm.IsRunning)
        {
            throw new InvalidOperationException(
                $"{BackendVariable}=openzfs needs a running storage host VM: {VmStateVariable}='{state}' names none; "
                    + "start one with lab/vm/up --state DIR and lab/vm/install --state DIR, or run lab/test --backend openzfs"
            );
        }
        if (!File.Exists(Path.Combine(state, "share", "driver", "zfs-csi-driver")))
        {
            throw new InvalidOperationException(
                $"the driver is not published for the VM of {state}: lab/vm/install --state {state}"
            );
        }
        return new VmStorageHost(vm);
    }

    public override Task<BufferedCommandResult> RunAsync(
        string program,
        IEnumerable<string> args,
        TimeSpan? timeout = null,
        string? input = null
    ) => Vm.RunAsync(program, args, timeout, input);

    /// <summary>
    /// ssh on its own connection (not the shared master: its forward and its session end with it)
    /// runs the driver under <c>tied</c>, which stops the driver when the session's stdin closes, so
    /// killing this process stops the remote driver too. The driver's socket is forwarded here.
    /// </summary>
    public override ProcessStartInfo DriverStartInfo(string localSocket, IReadOnlyList<string> driverArgs)
    {
        var remoteSocket = $"/run/zfs-csi-tests/{Path.GetFileName(localSocket)}";
        var info = new ProcessStartInfo(Path.Combine(RepoLayout.Root, "lab", "vm", "ssh"))
        {
            RedirectStandardInput = true,
        };
        foreach (
            var a in new[]
            {
                "--state",
                Vm.State,
                "--ssh-option",
                "-oControlMaster=no",
                "--ssh-option",
                "-oControlPath=none",
                "--ssh-option",
                "-oStreamLocalBindUnlink=yes",
                "--ssh-option",
                "-oExitOnForwardFailure=yes",
                "--ssh-option",
                $"-L{localSocket}:{remoteSocket}",
                "--",
                "/lab/tied",
                GuestDriver,
                "--endpoint",
                $"unix://{remoteSocket}",
            }.Concat(driverArgs)
        )
        {
            info.ArgumentList.Add(a);
        }
        return info;
    }
}
