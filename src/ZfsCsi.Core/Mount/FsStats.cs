namespace ZfsCsi.Core.Mount;

/// <summary>
/// statvfs(3) of a path: what df shows. Over SSHFS the numbers are those of the dataset the path
/// is in on the storage host (the statvfs@openssh.com extension answers per path), so a volume's bind shows
/// its refquota. Blocking: call through <see cref="Deadline"/>.
/// </summary>
public sealed record FsStats(
    ulong BlockSize,
    ulong Blocks,
    ulong FreeBlocks,
    ulong AvailableBlocks,
    ulong Files,
    ulong FreeFiles
)
{
    public long TotalBytes => Clamp(Blocks * BlockSize);
    public long AvailableBytes => Clamp(AvailableBlocks * BlockSize);
    public long UsedBytes => Clamp((Blocks - Math.Min(FreeBlocks, Blocks)) * BlockSize);
    public long TotalInodes => Clamp(Files);
    public long FreeInodes => Clamp(FreeFiles);
    public long UsedInodes => Clamp(Files - Math.Min(FreeFiles, Files));

    public static FsStats Of(INodeKernel kernel, string path)
    {
        if (kernel.Statvfs(path, out var s) is var errno and not 0)
        {
            throw new SyscallException("statvfs", path, errno);
        }
        return new FsStats(s.Frsize == 0 ? s.Bsize : s.Frsize, s.Blocks, s.Bfree, s.Bavail, s.Files, s.Ffree);
    }

    private static long Clamp(ulong v) => v > long.MaxValue ? long.MaxValue : (long)v;
}
