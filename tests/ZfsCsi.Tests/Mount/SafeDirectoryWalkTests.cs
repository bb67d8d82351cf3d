using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Mount;

namespace ZfsCsi.Tests.Mount;

/// <summary>
/// The fd walk kubelet targets are made and removed with (real directories and symlinks): it
/// never follows a symlink on the way, names what it found instead of a directory, and its
/// fds outlive a caller that gave up on a deadline. On the real kernel: the walk's own
/// behaviour, which the node's unit tests take from a model of it (<see cref="Fakes.FakeKernel"/>).
/// </summary>
public sealed class SafeDirectoryWalkTests : IDisposable
{
    private static readonly LinuxKernel Kernel = new();
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("zfs-csi-walk-");
    private readonly DirectoryInfo _outside = Directory.CreateTempSubdirectory("zfs-csi-outside-");

    public void Dispose()
    {
        _root.Delete(recursive: true);
        _outside.Delete(recursive: true);
    }

    private string Kubelet => Path.Combine(_root.FullName, "kubelet");

    [Fact]
    public void Missing_directories_are_made_below_the_root()
    {
        Directory.CreateDirectory(Kubelet);
        using var dir = SafeDirectory.OpenOrCreate(Kernel, Kubelet, ["pods", "u1", "volumes", "mount"], 0b111_101_101);
        Assert.True(Directory.Exists(Path.Combine(Kubelet, "pods/u1/volumes/mount")));
        Assert.Equal(Path.Combine(Kubelet, "pods/u1/volumes/mount"), dir.Path);
    }

    [Fact]
    public void A_symlinked_parent_is_refused_and_nothing_is_made_where_it_points()
    {
        Directory.CreateDirectory(Path.Combine(Kubelet, "pods"));
        File.CreateSymbolicLink(Path.Combine(Kubelet, "pods", "u1"), _outside.FullName);

        var e = Assert.Throws<NotADirectoryException>(() =>
            SafeDirectory.OpenOrCreate(Kernel, Kubelet, ["pods", "u1", "volumes", "mount"], 0b111_101_101)
        );
        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Contains("symbolic link", e.Message);
        Assert.Empty(_outside.EnumerateFileSystemInfos());
    }

    [Fact]
    public void A_regular_file_in_the_way_is_named_as_such()
    {
        Directory.CreateDirectory(Path.Combine(Kubelet, "pods"));
        File.WriteAllText(Path.Combine(Kubelet, "pods", "mount"), "not a directory");

        var e = Assert.Throws<NotADirectoryException>(() =>
            SafeDirectory.OpenOrCreate(Kernel, Kubelet, ["pods", "mount"], 0b111_101_101)
        );
        Assert.Contains("regular file", e.Message);
        Assert.Equal("not a directory", File.ReadAllText(Path.Combine(Kubelet, "pods", "mount")));
    }

    [Fact]
    public void Removing_through_the_parents_fd_is_not_redirected_by_a_parent_swapped_for_a_symlink()
    {
        var pod = Directory.CreateDirectory(Path.Combine(Kubelet, "pods", "u1"));
        Directory.CreateDirectory(Path.Combine(pod.FullName, "mount"));
        Directory.CreateDirectory(Path.Combine(_outside.FullName, "mount"));
        using var parent = SafeDirectory.Open(Kernel, Kubelet, ["pods", "u1"]);

        // After the walk, the pod directory is moved away and a symlink to elsewhere put in its place.
        Directory.Move(pod.FullName, pod.FullName + ".moved");
        File.CreateSymbolicLink(pod.FullName, _outside.FullName);

        Assert.Equal(0, parent.RemoveChildDirectory("mount"));
        Assert.True(
            Directory.Exists(Path.Combine(_outside.FullName, "mount")),
            "the directory the symlink points at was removed"
        );
        Assert.False(Directory.Exists(Path.Combine(pod.FullName + ".moved", "mount")));
    }

    [Fact]
    public void A_child_path_names_exactly_the_opened_directory()
    {
        Directory.CreateDirectory(Path.Combine(Kubelet, "a"));
        File.WriteAllText(Path.Combine(Kubelet, "a", "f"), "in a");
        using var dir = SafeDirectory.Open(Kernel, Kubelet, ["a"]);
        Assert.Equal("in a", File.ReadAllText(dir.ChildPath("f")));
        Assert.Throws<InvalidInputException>(() => dir.ChildPath(".."));
        Assert.Throws<InvalidInputException>(() => dir.ChildPath("x/y"));
    }

    [Fact]
    public async Task An_abandoned_call_still_uses_the_directory_it_was_given_after_its_caller_disposed_it()
    {
        Directory.CreateDirectory(Path.Combine(Kubelet, "a"));
        File.WriteAllText(Path.Combine(Kubelet, "a", "marker"), "a");
        Directory.CreateDirectory(Path.Combine(Kubelet, "b"));
        File.WriteAllText(Path.Combine(Kubelet, "b", "marker"), "b");

        using var go = new ManualResetEventSlim();
        var finished = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var dir = SafeDirectory.Open(Kernel, Kubelet, ["a"]);
        var path = dir.ProcPath;
        await Assert.ThrowsAsync<DeadMountException>(() =>
            Deadline.RunAsync(
                "slow bind",
                () =>
                {
                    go.Wait(TimeSpan.FromSeconds(10));
                    try
                    {
                        finished.SetResult(File.ReadAllText(Path.Combine(path, "marker")));
                    }
                    catch (Exception e)
                    {
                        finished.SetException(e);
                    }
                    return 0;
                },
                TimeSpan.FromMilliseconds(100),
                dir.Lease()
            )
        );

        // The caller gives up and disposes; new opens must not get the number the call still uses.
        dir.Dispose();
        var others = Enumerable.Range(0, 8).Select(_ => SafeDirectory.Open(Kernel, Kubelet, ["b"])).ToList();
        go.Set();
        try
        {
            Assert.Equal("a", await finished.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            others.ForEach(o => o.Dispose());
        }
    }
}
