using Serilog;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Tests.Snapshots;

/// <summary>DeleteVolume's choice between destroying and retaining, over a scripted runner.</summary>
public sealed class RetainDecisionTests
{
    private const string Volume =
        "data/k8s/pvc-1\tzfs-csi:name\tcHZjLTE\tlocal\n"
        + "data/k8s/pvc-1\tzfs-csi:state\tready\tlocal\n"
        + "data/k8s/pvc-1\trefquota\t8388608\tlocal\n"
        + "data/k8s/pvc-1\trefreservation\t8388608\tlocal\n";

    private static async Task<List<string>> DeleteAsync(string rows)
    {
        var runner = new ScriptedRunner(argv =>
            argv switch
            {
                ["get", "-r", .., "data/k8s/pvc-1"] => ScriptedRunner.Ok(rows),
                ["get", "-r", .., "data/k8s"] => ScriptedRunner.Ok(""),
                _ => ScriptedRunner.Ok(),
            }
        );
        var zfs = new ZfsClient(runner, new ZfsOptions(), new MountSerializer(null));
        var volumes = new VolumeManager(
            zfs,
            new VolumeOptions { ParentDataset = "data/k8s" },
            new LoggerConfiguration().CreateLogger(),
            new SweepRequests(),
            new OperationLocks()
        );
        await volumes.DeleteAsync("data/k8s/pvc-1", CancellationToken.None);
        return runner
            .Commands.Select(c => string.Join(' ', c))
            .Where(c => !c.StartsWith("get", StringComparison.Ordinal))
            .ToList();
    }

    [Fact]
    public async Task A_volume_with_only_foreign_snapshots_is_destroyed_with_them()
    {
        var commands = await DeleteAsync(
            Volume
                + "data/k8s/pvc-1@autosnap\tzfs-csi:name\tcHZjLTE\tinherited from data/k8s/pvc-1\n"
                + "data/k8s/pvc-1@autosnap\tdefer_destroy\toff\t-\n"
        );
        Assert.Equal(["unmount data/k8s/pvc-1", "destroy -r data/k8s/pvc-1"], commands);
    }

    [Fact]
    public async Task A_volume_with_a_csi_snapshot_is_retained_hidden_unreserved_and_rolled_back()
    {
        var commands = await DeleteAsync(
            Volume
                + "data/k8s/pvc-1@snapshot-1\tzfs-csi:name\tc25hcA\tlocal\n"
                + "data/k8s/pvc-1@snapshot-1\tcreation\t100\t-\n"
                + "data/k8s/pvc-1@autosnap\tcreation\t200\t-\n"
        );
        Assert.Equal(
            [
                "unmount data/k8s/pvc-1",
                "set zfs-csi:state=deleted data/k8s/pvc-1",
                "set canmount=off data/k8s/pvc-1",
                "set refreservation=none data/k8s/pvc-1",
                "rollback data/k8s/pvc-1@autosnap",
            ],
            commands
        );
    }

    [Fact]
    public async Task A_volume_whose_deleted_snapshot_still_has_clones_is_retained()
    {
        var commands = await DeleteAsync(
            Volume
                + "data/k8s/pvc-1@snapshot-1\tzfs-csi:name\tc25hcA\tlocal\n"
                + "data/k8s/pvc-1@snapshot-1\tdefer_destroy\ton\t-\n"
        );
        Assert.Contains("set zfs-csi:state=deleted data/k8s/pvc-1", commands);
        Assert.DoesNotContain(commands, c => c.StartsWith("destroy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dataset_without_our_marker_is_never_touched()
    {
        var commands = await DeleteAsync("data/k8s/pvc-1\tzfs-csi:name\tcHZjLTE\tinherited from data/k8s\n");
        Assert.Empty(commands);
    }
}
