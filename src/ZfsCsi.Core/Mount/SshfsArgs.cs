using System.Globalization;
using ZfsCsi.Core.Exec;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// The sshfs argv, pure. The remote path travels inside the SFTP protocol, not through a shell
/// on the storage host (its sshd runs internal-sftp, no login shell), so it is passed verbatim; quoting
/// it would make the quotes part of the path. It is validated instead (<see cref="SshfsOptions.Problem"/>).
/// </summary>
public static class SshfsArgs
{
    public static CommandLine Mount(SshfsOptions o, string mountPoint)
    {
        var options = string.Join(
            ',',
            "reconnect",
            $"ServerAliveInterval={o.ServerAliveInterval.ToString(CultureInfo.InvariantCulture)}",
            $"ServerAliveCountMax={o.ServerAliveCountMax.ToString(CultureInfo.InvariantCulture)}",
            $"ConnectTimeout={o.ConnectTimeout.ToString(CultureInfo.InvariantCulture)}",
            "StrictHostKeyChecking=yes",
            $"UserKnownHostsFile={o.KnownHostsFile}",
            $"IdentityFile={o.IdentityFile}",
            "IdentitiesOnly=yes",
            "BatchMode=yes",
            "PasswordAuthentication=no",
            // sshfs keeps its own stat/dir cache for 20 s by default: a pod on another node would
            // read a stale size or miss new names. Volumes are multi-node writers: no such cache.
            "dir_cache=no",
            // Pods run as any uid: without allow_other only root could enter the mount.
            "allow_other"
        );
        return new CommandLine(
            o.Program,
            "-p",
            o.Port.ToString(CultureInfo.InvariantCulture),
            "-o",
            options,
            o.Remote,
            mountPoint
        );
    }
}
