using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.ZfsCommands;

/// <summary>
/// A parent dataset of these tests' own on the pool of <see cref="StorageHost.Current"/>: under a
/// zfs-fuse pool of their own (<see cref="TestPool"/>) here, or under the storage host VM's pool
/// "data" on OpenZFS (<c>ZFS_CSI_BACKEND=openzfs</c>). Every command runs on that storage host as
/// argv; on zfs-fuse under the machine-wide mount lock (concurrent mounts wedge it). Removed at the
/// end, and a killed run's leftovers (same prefix) at the start.
/// </summary>
public sealed class ScratchDatasets : IAsyncLifetime
{
    private const string Prefix = "zcmd";
    private readonly TestPool? _zfsFusePool;

    public ScratchDatasets()
    {
        Host = StorageHost.Current;
        _zfsFusePool = Host is VmStorageHost ? null : new TestPool();
        Root = DatasetName.Parse(
            Host is VmStorageHost
                ? $"{VmStorageHost.PoolName}/{Prefix}{Environment.ProcessId}x{Random.Shared.Next(0x10000, 0xfffff):x}"
                : $"{_zfsFusePool!.Parent}/{Prefix}"
        );
    }

    public StorageHost Host { get; }

    public string Backend => Host.Backend;

    /// <summary>The pool the scratch parent is on.</summary>
    public string Pool => Root.Value.Split('/')[0];

    /// <summary>The scratch parent: each case makes its datasets under it with names of its own.</summary>
    public DatasetName Root { get; }

    private int _counter;

    /// <summary>A name under <see cref="Root"/> no other case uses.</summary>
    public DatasetName NewName(string hint) =>
        DatasetName.Parse($"{Root.Value}/{hint}{Interlocked.Increment(ref _counter)}");

    public async Task InitializeAsync()
    {
        if (_zfsFusePool is not null)
        {
            await _zfsFusePool.InitializeAsync();
        }
        else
        {
            await RemoveVmLeftoversAsync();
        }
        await CheckAsync("zfs", ZfsArgs.CreateWithParents(Root));
    }

    public async Task DisposeAsync()
    {
        if (_zfsFusePool is not null)
        {
            await _zfsFusePool.DisposeAsync();
            return;
        }
        await RunAsync("zfs", ZfsArgs.DestroyRecursive(Root));
    }

    /// <summary>Runs zfs or zpool on the storage host; on zfs-fuse under the mount lock.</summary>
    public async Task<CommandResult> RunAsync(string program, IReadOnlyList<string> argv)
    {
        var started = DateTime.UtcNow;
        var result =
            Host is VmStorageHost
                ? await Host.RunAsync(program, argv)
                : await TestPool.WithMountLockAsync(() => Host.RunAsync(program, argv));
        return new CommandResult(
            result.ExitCode,
            result.StandardOutput,
            result.StandardError,
            DateTime.UtcNow - started
        );
    }

    /// <summary>Runs and requires exit code 0; the output.</summary>
    public async Task<string> CheckAsync(string program, IReadOnlyList<string> argv)
    {
        var result = await RunAsync(program, argv);
        Assert.True(
            result.Succeeded,
            $"{Backend}: {new CommandLine(program, argv)} exited {result.ExitCode}: {result.StandardError.Trim()}"
        );
        return result.StandardOutput;
    }

    /// <summary>Destroys a dataset and its snapshots as the driver does (<see cref="ZfsArgs.DestroyRecursive"/>), retrying "busy".</summary>
    public Task DestroyAsync(DatasetName dataset) => CheckRetryingBusyAsync("zfs", ZfsArgs.DestroyRecursive(dataset));

    /// <summary>
    /// <see cref="CheckAsync"/>, retrying while zfs says "busy": zfs-fuse answers it for a moment
    /// after a mount (a clone's, just made) to destroy and rename alike; the driver retries it too.
    /// </summary>
    public async Task CheckRetryingBusyAsync(string program, IReadOnlyList<string> argv)
    {
        var command = new CommandLine(program, argv);
        for (var attempt = 1; ; attempt++)
        {
            var result = await RunAsync(program, argv);
            if (result.Succeeded)
            {
                return;
            }
            Assert.True(
                ZfsErrors.Classify(command, result) is DatasetBusyException && attempt < 20,
                $"{Backend}: {command} exited {result.ExitCode}: {result.StandardError.Trim()}"
            );
            await Task.Delay(250);
        }
    }

    /// <summary>One property's parsed value (zfs get -H -p through the driver's own builder and parser); null when not set.</summary>
    public async Task<string?> PropertyAsync(string name, string property)
    {
        var rows = ZfsParser.ParseGet(await CheckAsync("zfs", ZfsArgs.GetNamed([property], [name])));
        return rows.SingleOrDefault(r => r.Dataset == name && r.Name == property)?.Value;
    }

    /// <summary>Whether a dataset or snapshot of that name exists (zfs get through the driver's builder).</summary>
    public async Task<bool> ExistsAsync(string name)
    {
        var result = await RunAsync("zfs", ZfsArgs.GetNamed(["type"], [name]));
        if (!result.Succeeded && ZfsErrors.Classify(new CommandLine("zfs", []), result) is DatasetNotFoundException)
        {
            return false;
        }
        Assert.True(
            result.Succeeded,
            $"{Backend}: zfs get type {name} exited {result.ExitCode}: {result.StandardError.Trim()}"
        );
        return true;
    }

    /// <summary>Runs a shell snippet on the storage host (file contents inside a dataset only); its arguments are argv words.</summary>
    public async Task<string> ShellAsync(string script, params string[] args)
    {
        var result = await Host.RunAsync("sh", ["-c", script, "sh", .. args]);
        Assert.True(
            result.ExitCode == 0,
            $"{Backend}: sh -c '{script}' exited {result.ExitCode}: {result.StandardError.Trim()}"
        );
        return result.StandardOutput;
    }

    /// <summary>What a run of these tests killed half-way left under the VM's pool (OpenZFS only: zfs-fuse's pool goes whole).</summary>
    private async Task RemoveVmLeftoversAsync()
    {
        var children = ZfsParser.ParseGet(
            await CheckAsync("zfs", ZfsArgs.GetChildren(["type"], DatasetName.Parse(VmStorageHost.PoolName)))
        );
        foreach (var name in children.Select(r => r.Dataset).Distinct())
        {
            var leaf = name.Split('/').Last();
            if (
                leaf.StartsWith(Prefix, StringComparison.Ordinal)
                && !name.Contains('@')
                && name != Root.Value
                && int.TryParse(leaf[Prefix.Length..].Split('x')[0], out var pid)
                && !ProcessIsAlive(pid)
            )
            {
                await RunAsync("zfs", ZfsArgs.DestroyRecursive(DatasetName.Parse(name)));
            }
        }
    }

    private static bool ProcessIsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
