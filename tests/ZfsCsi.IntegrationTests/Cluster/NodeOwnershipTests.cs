using static ZfsCsi.IntegrationTests.Cluster.NodeRequests;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>
/// What uid and gid files get when pods write through SSHFS (the README's "File ownership"):
/// alice's sftp-server runs as the SSH login user (root in the lab) and creates every file as
/// that user, whatever uid the pod runs as; the node mounts without default_permissions, so
/// permission checks are alice's, made as that user.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeOwnershipTests(ClusterFixture cluster)
{
    [Fact]
    public async Task A_file_written_by_a_non_root_pod_belongs_to_the_ssh_user_on_alice()
    {
        var id = await cluster.CreateVolumeAsync(Unique("pvc-owner"));
        var target = cluster.Yakko.NewTarget();
        await cluster.Yakko.Node.NodePublishVolumeAsync(Publish(id, target));
        try
        {
            await cluster.Yakko.CheckAsync(
                "setpriv",
                "--reuid=1000",
                "--regid=1000",
                "--clear-groups",
                "touch",
                $"{target}/by-1000"
            );
            Assert.Equal("0:0\n", await cluster.Yakko.CheckAsync("stat", "-c", "%u:%g", $"{target}/by-1000"));
            var onAlice = new FileInfo($"{cluster.AlicePath(id)}/by-1000");
            Assert.True(onAlice.Exists);
            Assert.Equal("0:0\n", await Infrastructure.Sh.CheckAsync("stat", "-c", "%u:%g", onAlice.FullName));

            // A gid set on alice (rootGid, or kubelet's fsGroup chown) shows through as a number,
            // and a setgid directory hands it to new files, as fsGroup expects.
            await cluster.Yakko.CheckAsync("mkdir", $"{target}/shared");
            await cluster.Yakko.CheckAsync("chown", "0:2000", $"{target}/shared");
            await cluster.Yakko.CheckAsync("chmod", "2775", $"{target}/shared");
            await cluster.Yakko.CheckAsync(
                "setpriv",
                "--reuid=1000",
                "--regid=1000",
                "--clear-groups",
                "touch",
                $"{target}/shared/f"
            );
            Assert.Equal("0:2000\n", await cluster.Yakko.CheckAsync("stat", "-c", "%u:%g", $"{target}/shared/f"));

            // Permission checks are made on alice as the SSH user: a pod uid that the mode bits
            // would refuse still writes into a root-owned 0755 directory.
            await cluster.Yakko.CheckAsync("mkdir", "-m", "0755", $"{target}/rootonly");
            var write = await cluster.Yakko.ExecAsync(
                "setpriv",
                "--reuid=1000",
                "--regid=1000",
                "--clear-groups",
                "touch",
                $"{target}/rootonly/f"
            );
            Assert.Equal(0, write.ExitCode);
        }
        finally
        {
            await cluster.Yakko.Node.NodeUnpublishVolumeAsync(Unpublish(id, target));
        }
    }
}
