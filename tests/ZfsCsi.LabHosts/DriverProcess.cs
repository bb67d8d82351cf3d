using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Csi.V1;
using Grpc.Core;

namespace ZfsCsi.LabHosts;

/// <summary>
/// The real driver as a separate process (the published <c>zfs-csi-driver --endpoint unix://…</c>),
/// exactly as a node's container runs it. Its output is kept so a failed start says why. Stopped
/// by its process id, and its socket removed, on dispose.
/// </summary>
public sealed class DriverProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _pidFile;

    public string SocketPath { get; }

    public IReadOnlyList<string> Arguments { get; }

    private DriverProcess(Process process, string socketPath, string pidFile, IReadOnlyList<string> arguments)
    {
        _process = process;
        SocketPath = socketPath;
        _pidFile = pidFile;
        Arguments = arguments;
    }

    /// <summary>
    /// Starts the driver on <paramref name="host"/> (here, or in the storage host VM with its socket
    /// forwarded here) and waits until Probe says ready.
    /// </summary>
    /// <param name="untilReady">false: return once Probe answers at all (a driver gated by the bootstrap says not ready).</param>
    public static Task<DriverProcess> StartOnAsync(
        StorageHost host,
        string runDirectory,
        string name,
        IReadOnlyList<string> flags,
        bool untilReady = true
    )
    {
        var socket = Path.Combine(runDirectory, $"{name}.sock");
        // Under TCG the VM starts a .NET process in seconds, not milliseconds.
        var limit = host is VmStorageHost ? TimeSpan.FromSeconds(240) : TimeSpan.FromSeconds(60);
        return StartAsync(runDirectory, name, socket, host.DriverStartInfo(socket, flags), limit, untilReady);
    }

    /// <summary>
    /// Starts the driver on this machine (a node plugin), optionally inside network namespace
    /// <paramref name="netns"/> (where the storage host VM's sshd is reachable), and waits for Probe.
    /// </summary>
    public static Task<DriverProcess> StartHereAsync(
        string runDirectory,
        string name,
        IReadOnlyList<string> flags,
        string? netns = null
    )
    {
        var socket = Path.Combine(runDirectory, $"{name}.sock");
        var driver = RepoLayout.DriverCommand();
        var info = new ProcessStartInfo(netns is null ? driver[0] : "nsenter");
        var args = netns is null ? new List<string>(driver.Skip(1)) : [$"--net=/run/netns/{netns}", .. driver];
        args.AddRange(["--endpoint", $"unix://{socket}", .. flags]);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        return StartAsync(runDirectory, name, socket, info, TimeSpan.FromSeconds(60), untilReady: true);
    }

    private static async Task<DriverProcess> StartAsync(
        string runDirectory,
        string name,
        string socket,
        ProcessStartInfo info,
        TimeSpan readyWithin,
        bool untilReady
    )
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.WorkingDirectory = runDirectory;
        var args = new List<string> { info.FileName };
        args.AddRange(info.ArgumentList);
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start dotnet");
        var driver = new DriverProcess(process, socket, Path.Combine(runDirectory, $"{name}.pid"), args);
        process.OutputDataReceived += (_, e) => driver.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => driver.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await File.WriteAllTextAsync(driver._pidFile, process.Id.ToString(CultureInfo.InvariantCulture));
        try
        {
            await driver.WaitReadyAsync(readyWithin, untilReady);
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }
        return driver;
    }

    /// <summary>Every line of output kept so far (the last 2,000): its log events, e.g. the commands it ran.</summary>
    public IReadOnlyList<string> OutputLines() => [.. _output];

    /// <summary>The driver's last lines of output, for failure messages.</summary>
    public string OutputTail(int lines = 40) => string.Join('\n', _output.TakeLast(lines));

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 2000)
        {
            _output.TryDequeue(out _);
        }
    }

    private async Task WaitReadyAsync(TimeSpan timeout, bool untilReady)
    {
        var waited = Stopwatch.StartNew();
        string last = "socket not there yet";
        while (waited.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"the driver exited with code {_process.ExitCode} at start ({string.Join(' ', Arguments)}):\n{OutputTail()}"
                );
            }
            if (File.Exists(SocketPath))
            {
                try
                {
                    using var channel = UnixSocketChannel.Create(SocketPath);
                    var probe = await new Identity.IdentityClient(channel).ProbeAsync(
                        new ProbeRequest(),
                        deadline: DateTime.UtcNow.AddSeconds(10)
                    );
                    if (!untilReady || probe.Ready is null || probe.Ready == true)
                    {
                        return;
                    }
                    last = "Probe answered ready=false";
                }
                catch (RpcException e)
                {
                    last = $"Probe failed: {e.StatusCode} {e.Status.Detail}";
                }
            }
            await Task.Delay(200);
        }
        throw new TimeoutException(
            $"the driver was not ready within {timeout.TotalSeconds} s ({last}):\n{OutputTail()}"
        );
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process.StartInfo.RedirectStandardInput)
            {
                // A driver on the storage host VM stops when its ssh session's stdin closes (lab/vm/tied).
                _process.StandardInput.Close();
                using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                try
                {
                    await _process.WaitForExitAsync(closing.Token);
                }
                catch (OperationCanceledException)
                {
                    // Killed below.
                }
            }
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        finally
        {
            _process.Dispose();
            File.Delete(SocketPath);
            File.Delete(_pidFile);
        }
    }

    /// <summary>
    /// Stops a driver that a killed suite run left behind: the one whose pid its pid file names,
    /// and only if that process still is our driver (or the ssh session of one) for that run's
    /// parent dataset (pids are reused).
    /// </summary>
    public static void KillOrphan(string runDirectory, string parent)
    {
        if (!Directory.Exists(runDirectory))
        {
            return;
        }
        foreach (var pidFile in Directory.GetFiles(runDirectory, "*.pid"))
        {
            if (!int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                continue;
            }
            try
            {
                var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
                if (
                    cmdline.Contains("zfs-csi-driver", StringComparison.Ordinal)
                    && cmdline.Contains(parent, StringComparison.Ordinal)
                )
                {
                    using var orphan = Process.GetProcessById(pid);
                    orphan.Kill(entireProcessTree: true);
                    orphan.WaitForExit(TimeSpan.FromSeconds(20));
                }
            }
            catch (Exception e)
                when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                // Gone already.
            }
        }
    }
}
