using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Csi.V1;
using Grpc.Core;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// The real driver as a separate process (<c>dotnet zfs-csi-driver.dll --endpoint unix://…</c>),
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

    /// <summary>Starts the driver and waits until its socket answers Probe with ready.</summary>
    public static async Task<DriverProcess> StartAsync(string runDirectory, string name, IReadOnlyList<string> flags)
    {
        var dll = RepoLayout.DriverDll();
        var socket = Path.Combine(runDirectory, $"{name}.sock");
        var args = new List<string> { dll, "--endpoint", $"unix://{socket}" };
        args.AddRange(flags);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = runDirectory,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start dotnet");
        var driver = new DriverProcess(process, socket, Path.Combine(runDirectory, $"{name}.pid"), args);
        process.OutputDataReceived += (_, e) => driver.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => driver.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await File.WriteAllTextAsync(driver._pidFile, process.Id.ToString(CultureInfo.InvariantCulture));
        try
        {
            await driver.WaitReadyAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }
        return driver;
    }

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

    private async Task WaitReadyAsync(TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        string last = "socket not there yet";
        while (waited.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"the driver exited with code {_process.ExitCode} at start ({string.Join(' ', Arguments)}):\n{OutputTail()}");
            }
            if (File.Exists(SocketPath))
            {
                try
                {
                    using var channel = UnixSocketChannel.Create(SocketPath);
                    var probe = await new Identity.IdentityClient(channel).ProbeAsync(new ProbeRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
                    if (probe.Ready is null || probe.Ready == true)
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
        throw new TimeoutException($"the driver was not ready within {timeout.TotalSeconds} s ({last}):\n{OutputTail()}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
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
    /// and only if that process still is our driver for that pool (pids are reused).
    /// </summary>
    public static void KillOrphan(string runDirectory, string pool)
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
                if (cmdline.Contains("zfs-csi-driver.dll", StringComparison.Ordinal) && cmdline.Contains(pool, StringComparison.Ordinal))
                {
                    using var orphan = Process.GetProcessById(pid);
                    orphan.Kill(entireProcessTree: true);
                    orphan.WaitForExit(TimeSpan.FromSeconds(20));
                }
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                // Gone already.
            }
        }
    }
}
