using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;
using Grpc.Core;
using Xunit.Abstractions;
using static ZfsCsi.IntegrationTests.Cluster.NodeRequests;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>
/// What pods and planted paths cannot reach: alice's files outside the export through two
/// nodes' SSHFS mounts of one volume, and anything outside the kubelet directory through a
/// symlinked pod directory.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeContainmentTests(ClusterFixture cluster, ITestOutputHelper output) : IDisposable
{
    /// <summary>A directory on alice outside the export (the pool root), with a secret in it.</summary>
    private readonly DirectoryInfo _outside = Directory.CreateDirectory(
        Path.Combine(cluster.StateDir, "outside-" + Guid.NewGuid().ToString("N")[..8])
    );

    public void Dispose() => _outside.Delete(recursive: true);

    /// <summary>
    /// The auditor's race: alice's sftp-server follows symlinks. A pod on yakko swaps a directory
    /// for a symlink; a pod on wakko still holds that directory (its working directory: the
    /// kernel keeps the entry, and sshfs sends the old path), so wakko's next operations are
    /// resolved by alice through the new symlink. alice's sshd is chrooted to the pool root, so
    /// both an absolute link and a ../ climb stay inside the export and find nothing.
    /// </summary>
    [Theory]
    [InlineData("absolute")]
    [InlineData("relative")]
    public async Task A_directory_swapped_for_a_symlink_through_one_node_reaches_nothing_outside_the_export_through_the_other(
        string kind
    )
    {
        await File.WriteAllTextAsync(Path.Combine(_outside.FullName, "secret"), "outside the export\n");
        var id = await cluster.CreateVolumeAsync(Unique("pvc-race"));
        var onYakko = cluster.Yakko.NewTarget();
        var onWakko = cluster.Wakko.NewTarget();
        await cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, onYakko));
        await cluster.Wakko.Node.NodePublishVolumeAsync(Publish(id, onWakko));
        var go = Path.Combine(_outside.FullName, "go");
        try
        {
            await cluster.Yakko.CheckAsync("mkdir", $"{onYakko}/d");
            // wakko's pod enters d, waits for the swap (signalled outside SSHFS), then reads and writes "in d".
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var wakko = Cli.Wrap("nsenter")
                .WithArguments([
                    "-t",
                    cluster.Wakko.HolderPid.ToString(),
                    "-m",
                    "-n",
                    "--",
                    "sh",
                    "-c",
                    "while [ ! -d \"$1/d\" ]; do sleep 0.02; done; cd \"$1/d\" || exit 9; echo entered; while [ ! -e \"$2\" ]; do sleep 0.02; done; "
                        + "cat secret; echo written-through-wakko > written; ls -a",
                    "sh",
                    onWakko,
                    go,
                ])
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(timeout.Token);
            await Task.Delay(500);

            // From alice's view of the volume, the link target leaves the export.
            var volumeOnAlice = cluster.AlicePath(id);
            var link =
                kind == "absolute"
                    ? _outside.FullName
                    : string.Concat(Enumerable.Repeat("../", volumeOnAlice.Count(c => c == '/')))
                        + _outside.FullName.TrimStart('/');
            await cluster.Yakko.CheckAsync("sh", "-c", "rmdir \"$1/d\" && ln -s \"$2\" \"$1/d\"", "sh", onYakko, link);
            await File.WriteAllTextAsync(go, "");
            var result = await wakko;
            output.WriteLine(
                $"wakko ({result.ExitCode}): {result.StandardOutput.Trim()} | {result.StandardError.Trim()}"
            );

            Assert.Contains("entered", result.StandardOutput);
            Assert.DoesNotContain("outside the export", result.StandardOutput);
            Assert.False(
                File.Exists(Path.Combine(_outside.FullName, "written")),
                "wakko's pod wrote outside the export"
            );
            Assert.Equal(["go", "secret"], _outside.EnumerateFiles().Select(f => f.Name).Order());
            // The link itself is only a link inside the volume.
            Assert.Equal("symbolic link\n", await cluster.Yakko.CheckAsync("stat", "-c", "%F", $"{onYakko}/d"));
        }
        finally
        {
            await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, onYakko));
            await cluster.Wakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, onWakko));
        }
    }

    [Fact]
    public async Task A_pod_directory_made_a_symlink_out_of_the_kubelet_directory_is_refused_by_publish_and_unpublish_and_nothing_is_made_or_removed_there()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-symparent"));
        var pod = Guid.NewGuid().ToString();
        var podDir = Path.Combine(cluster.Yakko.KubeletDir, "pods", pod);
        Directory.CreateDirectory(Path.GetDirectoryName(podDir)!);
        File.CreateSymbolicLink(podDir, _outside.FullName);
        var target = $"{podDir}/volumes/kubernetes.io~csi/pv/mount";
        try
        {
            var publish = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target)).ResponseAsync
            );
            output.WriteLine($"publish: {publish.StatusCode}: {publish.Status.Detail}");
            Assert.Equal(StatusCode.FailedPrecondition, publish.StatusCode);
            Assert.Contains("symbolic link", publish.Status.Detail);
            Assert.Empty(_outside.EnumerateFileSystemInfos());

            // Something there that unpublish must not remove by following the link.
            Directory.CreateDirectory(Path.Combine(_outside.FullName, "volumes/kubernetes.io~csi/pv/mount"));
            var unpublish = await Assert.ThrowsAsync<RpcException>(() =>
                cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target)).ResponseAsync
            );
            Assert.Equal(StatusCode.FailedPrecondition, unpublish.StatusCode);
            Assert.True(
                Directory.Exists(Path.Combine(_outside.FullName, "volumes/kubernetes.io~csi/pv/mount")),
                "unpublish removed a directory outside the kubelet directory"
            );
        }
        finally
        {
            File.Delete(podDir);
        }
    }

    [Fact]
    public async Task A_regular_file_at_the_target_path_is_failed_precondition_and_left_alone()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-file"));
        var target = cluster.Yakko.NewTarget();
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await File.WriteAllTextAsync(target, "a file, not a directory");

        var publish = await Assert.ThrowsAsync<RpcException>(() =>
            cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target)).ResponseAsync
        );
        Assert.Equal(StatusCode.FailedPrecondition, publish.StatusCode);
        Assert.Contains("regular file", publish.Status.Detail);
        var unpublish = await Assert.ThrowsAsync<RpcException>(() =>
            cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target)).ResponseAsync
        );
        Assert.Equal(StatusCode.FailedPrecondition, unpublish.StatusCode);
        Assert.Equal("a file, not a directory", await File.ReadAllTextAsync(target));
        File.Delete(target);
    }
}
