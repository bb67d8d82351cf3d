using ZfsCsi.Core.Mount;
using ZfsCsi.Core.Options;

namespace ZfsCsi.Driver.Options;

public sealed partial class DriverOptions
{
    /// <summary>The node plugin's paths must be absolute and canonical: they bound what the node may mount.</summary>
    private void ValidateNode()
    {
        foreach (var (flag, path) in new[] { ("--data-root", Node.DataRoot), ("--kubelet-dir", Node.KubeletDir) })
        {
            if (!path.StartsWith('/') || path.Split('/').Any(c => c is "." or "..") || path.Any(char.IsControl))
            {
                throw new OptionsException($"{flag} '{path}': expected an absolute path without '.' or '..'");
            }
        }
        if (Node.KubeletDir.TrimEnd('/').Length == 0)
        {
            throw new OptionsException("--kubelet-dir must not be /: targets would be allowed anywhere");
        }
        if (Node.Sshfs is { } sshfs && sshfs.Problem() is { } problem)
        {
            throw new OptionsException(problem);
        }
    }
}
