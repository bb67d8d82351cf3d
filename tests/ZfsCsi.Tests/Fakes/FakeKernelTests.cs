using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Fakes;

/// <summary>
/// The model answers as the kernel does where the node's unit tests rely on it (fs/namespace.c,
/// fs/namei.c, proc(5)); each case here is what the real kernel does on the lab cluster.
/// </summary>
public sealed class FakeKernelTests : IDisposable
{
    private readonly FakeKernel _kernel = new();

    public void Dispose() => _kernel.Dispose();

    [Fact]
    public void A_bind_copies_its_sources_flags_and_a_bind_remount_sets_exactly_the_ones_given_keeping_the_atime_mode()
    {
        _kernel.MakeDirectories("/src");
        _kernel.MakeDirectories("/dst");
        var fs = _kernel.Mount("/src", "tmpfs", "tmpfs", "rw,nosuid,noatime");
        fs.MakeDirectories("/dir");
        Assert.Equal(
            0,
            _kernel.OpenAt(Native.AtFdcwd, "/src/dir", Native.OPath | Native.ODirectory, 0, out var source)
        );
        Assert.Equal(0, _kernel.OpenAt(Native.AtFdcwd, "/dst", Native.OPath | Native.ODirectory, 0, out var target));

        Assert.Equal(
            0,
            _kernel.Mount(
                $"/proc/self/fd/{source}",
                $"/proc/self/fd/{target}",
                null,
                Native.MsBind | Native.MsRdonly,
                null
            )
        );
        var bind = MountTable.Read(_kernel).At("/dst").Single();
        Assert.Equal(("/dir", "tmpfs"), (bind.Root, bind.FsType));
        Assert.Equal(["noatime", "nosuid", "rw"], bind.MountOptions.Order(StringComparer.Ordinal));

        Assert.Equal(
            0,
            _kernel.Mount(null, "/dst", null, Native.MsRemount | Native.MsBind | Native.MsRdonly | Native.MsNodev, null)
        );
        Assert.Equal(
            ["noatime", "nodev", "ro"],
            MountTable.Read(_kernel).At("/dst").Single().MountOptions.Order(StringComparer.Ordinal)
        );
        Assert.Equal(Errno.EINVAL, _kernel.Mount(null, "/src/dir", null, Native.MsRemount | Native.MsBind, null));
    }

    [Fact]
    public void A_path_crosses_into_the_top_mount_but_proc_self_fd_names_the_directory_opened_before_it()
    {
        _kernel.MakeDirectories("/a");
        Assert.Equal(0, _kernel.OpenAt(Native.AtFdcwd, "/a", Native.OPath | Native.ODirectory, 0, out var before));
        var covering = _kernel.Mount("/a", "tmpfs", "covering", "rw");
        covering.Stats = FakeStats.Of(blocks: 7, free: 7, files: 7, freeFiles: 7);
        Assert.Equal(0, _kernel.OpenAt(Native.AtFdcwd, "/a", Native.OPath | Native.ODirectory, 0, out var after));

        Assert.Equal(0, _kernel.Statvfs("/a", out var stats));
        Assert.Equal(7UL, stats.Blocks);
        Assert.Equal(0, _kernel.Statvfs($"/proc/self/fd/{before}", out stats));
        Assert.NotEqual(7UL, stats.Blocks);
        var mountId = MountTable.Read(_kernel).At("/a").Single().Id;
        Assert.Contains($"mnt_id:\t{mountId}\n", _kernel.ReadFdInfo(after), StringComparison.Ordinal);
        Assert.DoesNotContain($"mnt_id:\t{mountId}\n", _kernel.ReadFdInfo(before), StringComparison.Ordinal);
    }

    [Fact]
    public void Umount_needs_the_root_of_a_mount_and_is_busy_while_something_holds_it_unless_lazy()
    {
        _kernel.MakeDirectories("/m/sub");
        _kernel.Mount("/m", "tmpfs", "tmpfs", "rw").MakeDirectories("/sub");
        Assert.Equal(Errno.EINVAL, _kernel.Umount2("/m/sub", 0));
        Assert.Equal(0, _kernel.OpenAt(Native.AtFdcwd, "/m/sub", Native.OPath | Native.ODirectory, 0, out var inside));

        Assert.Equal(Errno.EBUSY, _kernel.Umount2("/m", 0));
        Assert.Equal(Errno.EBUSY, _kernel.UnlinkAt(Native.AtFdcwd, "/m", Native.AtRemovedir));
        Assert.Equal(0, _kernel.Umount2("/m", Native.MntDetach));
        Assert.Empty(MountTable.Read(_kernel).At("/m"));
        // A descriptor into a lazily detached mount still works.
        Assert.Equal(0, _kernel.Statvfs($"/proc/self/fd/{inside}", out _));
        Assert.Equal(0, _kernel.Close(inside));
        Assert.Equal(0, _kernel.UnlinkAt(Native.AtFdcwd, "/m/sub", Native.AtRemovedir));
    }

    [Fact]
    public void Mountinfo_escapes_paths_as_the_kernel_does_and_the_real_parser_reads_them_back()
    {
        const string odd = "/pods/a b\tc\\d";
        _kernel.MakeDirectories(odd);
        _kernel.Mount(odd, "tmpfs", "zfs-csi-fenced:data/k8s/pvc-1", "ro,nosuid,nodev,noexec");

        var text = _kernel.ReadMountInfo();

        Assert.Contains(@"/pods/a\040b\011c\134d", text, StringComparison.Ordinal);
        var entry = MountTable.Read(_kernel).At(odd).Single();
        Assert.True(Fence.Is(entry));
        Assert.True(entry.ReadOnly);
    }

    [Fact]
    public void A_walk_without_following_symlinks_is_refused_where_one_is()
    {
        _kernel.MakeDirectories("/real");
        _kernel.Symlink("/link", "/real");

        Assert.Equal(
            Errno.ENOTDIR,
            _kernel.OpenAt(Native.AtFdcwd, "/link", Native.OPath | Native.ODirectory | Native.ONofollow, 0, out _)
        );
        Assert.Equal(0, _kernel.OpenAt(Native.AtFdcwd, "/link", Native.OPath | Native.ODirectory, 0, out _));
        Assert.Equal(0, _kernel.Statx(Native.AtFdcwd, "/link", Native.AtSymlinkNofollow, Native.StatxType, out var st));
        Assert.Equal(Native.SIflnk, st.Mode & Native.SIfmt);
    }
}
