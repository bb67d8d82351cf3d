using System.Diagnostics;

namespace ZfsCsi.Lab;

/// <summary>
/// Runs a command on the storage host, where the pool is: here (zfs-fuse, lab/demo), or through the
/// words of <c>--storage-host</c> put before it (lab/demo-openzfs: <c>lab/vm/ssh --state DIR --</c>, a
/// root shell in the VM). No shell here: argv as given (lab/vm/ssh quotes every word for the remote one).
/// </summary>
public sealed class StorageHostShell(string? prefix)
{
    private readonly string[] _prefix = (prefix ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public async Task<string> RunAsync(params string[] argv)
    {
        var words = _prefix.Concat(argv).ToArray();
        var start = new ProcessStartInfo(words[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in words.Skip(1))
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start) ?? throw new LabException($"cannot start {words[0]}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0
            ? await stdout
            : throw new LabException(
                $"on the storage host: {string.Join(' ', words)} exited {process.ExitCode}: {(await stderr).Trim()}"
            );
    }
}
