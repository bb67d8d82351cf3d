namespace ZfsCsi.Core.Mount;

/// <summary>The Linux errno values the mount code tells apart (asm-generic/errno-base.h, errno.h).</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int ECONNABORTED = 103;
    public const int ENOTCONN = 107;
    public const int ESTALE = 116;

    /// <summary>Errors a FUSE mount answers when its daemon is gone or its link is down.</summary>
    public static bool MeansDeadMount(int errno) => errno is ENOTCONN or ECONNABORTED or EIO or ESTALE;

    public static string Describe(int errno) =>
        errno switch
        {
            EPERM => "EPERM (operation not permitted)",
            ENOENT => "ENOENT (no such file or directory)",
            EIO => "EIO (input/output error)",
            EACCES => "EACCES (permission denied)",
            EBUSY => "EBUSY (busy)",
            EEXIST => "EEXIST (exists)",
            ENOTDIR => "ENOTDIR (not a directory)",
            EINVAL => "EINVAL (invalid argument)",
            ENOTEMPTY => "ENOTEMPTY (directory not empty)",
            ELOOP => "ELOOP (symbolic link)",
            ECONNABORTED => "ECONNABORTED (connection aborted)",
            ENOTCONN => "ENOTCONN (transport endpoint is not connected)",
            ESTALE => "ESTALE (stale file handle)",
            _ => $"errno {errno}",
        };
}

/// <summary>A system call failed; <see cref="Errno"/> says how.</summary>
public sealed class SyscallException(string call, string path, int errno)
    : IOException($"{call} {path}: {Mount.Errno.Describe(errno)}")
{
    public string Call { get; } = call;
    public string Path { get; } = path;
    public int Errno { get; } = errno;
}
