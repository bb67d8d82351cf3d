using System.Text.RegularExpressions;

namespace ZfsCsi.Core.Mount;

/// <summary>
/// How to mount the storage host's pool root over SSHFS: a pinned host key (StrictHostKeyChecking=yes with a
/// known_hosts file of its own; host key checking is never turned off), a key of its own,
/// keep-alives so a dead link is noticed within seconds, and reconnect so sshfs heals by itself (when it
/// does not within <see cref="ReconnectGrace"/>, the node plugin mounts again).
/// </summary>
public sealed partial class SshfsOptions
{
    /// <summary>user@host:/absolute/path of the storage host's pool root.</summary>
    public string Remote { get; set; } = "";
    public int Port { get; set; } = 22;
    public string IdentityFile { get; set; } = "";
    public string KnownHostsFile { get; set; } = "";
    public int ServerAliveInterval { get; set; } = 2;
    public int ServerAliveCountMax { get; set; } = 3;
    public int ConnectTimeout { get; set; } = 5;
    public string Program { get; set; } = "sshfs";

    /// <summary>
    /// How long a mounted data root may answer errors (EIO) while its sshfs still runs before the
    /// node plugin tries a login beside it, and how long it then waits, with the storage host
    /// serving that login, before it stops waiting for sshfs's reconnect and mounts again: what ssh
    /// needs to find a silent link dead (ServerAliveInterval x ServerAliveCountMax) plus one login
    /// (ConnectTimeout). sshfs tries to reconnect on every call, and the node plugin calls statvfs
    /// every check interval, so once the host serves a reconnect that can work has had its chances.
    /// </summary>
    public TimeSpan ReconnectGrace => TimeSpan.FromSeconds(ServerAliveInterval * ServerAliveCountMax + ConnectTimeout);

    /// <summary>
    /// How long a mounted data root may give no answer at all (its sshfs still running) before the
    /// same trial as <see cref="ReconnectGrace"/> starts. Long: a storage host that is only slow
    /// (one busy SFTP session, a pool under scrub or resilver) keeps ssh's keep-alives answered
    /// and answers in the end, and replacing its mount would fail every pod's I/O in flight.
    /// </summary>
    public int HungGraceSeconds { get; set; } = 300;

    public TimeSpan HungGrace => TimeSpan.FromSeconds(HungGraceSeconds);

    /// <summary>How long sshfs may take to mount before it is killed.</summary>
    public TimeSpan MountTimeout => TimeSpan.FromSeconds(ConnectTimeout + 10);

    /// <summary>Why these options cannot work, or null. Paths must be absolute and free of ',' (sshfs splits -o on commas).</summary>
    public string? Problem()
    {
        if (!RemotePattern().IsMatch(Remote))
        {
            return $"--sshfs-remote '{Remote}': expected user@host:/absolute/path (letters, digits, '_', '.', '-', '/' only)";
        }
        if (Port is < 1 or > 65535)
        {
            return $"--sshfs-port {Port}: expected 1-65535";
        }
        foreach (
            var (flag, path) in new[] { ("--sshfs-identity", IdentityFile), ("--sshfs-known-hosts", KnownHostsFile) }
        )
        {
            if (!path.StartsWith('/') || path.Any(c => c is ',' || char.IsControl(c) || char.IsWhiteSpace(c)))
            {
                return $"{flag} '{path}': expected an absolute path without commas or spaces";
            }
        }
        if (ServerAliveInterval < 1 || ServerAliveCountMax < 1 || ConnectTimeout < 1 || HungGraceSeconds < 1)
        {
            return "SSH keep-alive and connect timeouts must be positive";
        }
        return null;
    }

    // user@host:/path; host may be a name, IPv4, or [IPv6]. No leading '-' anywhere, so nothing reads as an option.
    [GeneratedRegex(
        @"^[A-Za-z_][A-Za-z0-9_.-]{0,31}@([A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]+\]):/[A-Za-z0-9_./-]*$"
    )]
    private static partial Regex RemotePattern();
}
