using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// The open-then-check race on alice: a directory opened before a mount covers it stays on the
/// mount it was opened on, and MountId tells the two apart (real tmpfs mount, needs root).
/// </summary>
public sealed class SafeDirectoryMountIdTests : IDisposable
{
    private static readonly LinuxKernel Kernel = new();
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("zfs-csi-mntid-");

    public void Dispose()
    {
        Run("umount", "-l", Path.Combine(_root.FullName, "vol"));
        _root.Delete(recursive: true);
    }

    [Fact]
    public void A_directory_opened_before_a_mount_covered_it_reports_the_old_mount()
    {
        var vol = Directory.CreateDirectory(Path.Combine(_root.FullName, "vol"));
        using var before = SafeDirectory.Open(Kernel, _root.FullName, ["vol"]);
        var underneath = before.MountId;

        Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", vol.FullName);
        using var after = SafeDirectory.Open(Kernel, _root.FullName, ["vol"]);
        var covering = MountTable.Read(Kernel).At(vol.FullName).Last();

        Assert.NotNull(underneath);
        Assert.Equal(covering.Id, after.MountId);
        Assert.NotEqual(covering.Id, before.MountId);
        Assert.Equal(underneath, before.MountId);
    }

    private static void Run(string program, params string[] args)
    {
        using var p = System.Diagnostics.Process.Start(
            new System.Diagnostics.ProcessStartInfo(program, args) { RedirectStandardError = true }
        )!;
        p.WaitForExit(10_000);
    }
}
