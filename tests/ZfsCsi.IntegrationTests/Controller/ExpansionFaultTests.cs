using Csi.V1;
using Grpc.Core;
using ZfsCsi.IntegrationTests.Infrastructure;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>
/// The driver on a zfs that, once armed, hangs the next <c>zfs set refreservation=...</c> past the
/// driver's timeout without running it: what a crash or a timeout between an expansion's two
/// steps (quota, then reservation) leaves behind.
/// </summary>
public sealed class ReservationFaultFixture : DriverFixture
{
    private static readonly string Directory = $"/tmp/zfs-csi-tests/reservation-fault-{Guid.NewGuid():N}";

    public string Script { get; } = Path.Combine(Directory, "zfs");

    private string Armed => Path.Combine(Directory, "armed");

    protected override IEnumerable<string> ExtraArgs => ["--mode", "controller", "--zfs", Script, "--zfs-timeout", "5"];

    /// <summary>The next reservation set hangs (once): rm succeeds for exactly one caller.</summary>
    public Task ArmAsync() => File.WriteAllTextAsync(Armed, "");

    public bool IsArmed => File.Exists(Armed);

    public override async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        await File.WriteAllTextAsync(
            Script,
            $"""
            #!/bin/sh
            case "$1 $2" in
              "set refreservation="*) rm "{Armed}" 2>/dev/null && exec sleep 60 ;;
            esac
            exec zfs "$@"

            """
        );
        File.SetUnixFileMode(Script, (UnixFileMode)0x1ED);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>A thick expansion cut between its quota and its reservation converges on the retry.</summary>
public sealed class ExpansionFaultTests(ReservationFaultFixture driver) : IClassFixture<ReservationFaultFixture>
{
    private static readonly Dictionary<string, string> Thick = new() { ["provisioning"] = "thick" };

    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    private Task<ControllerExpandVolumeResponse> ExpandAsync(string id, long bytes) =>
        Controller
            .ControllerExpandVolumeAsync(
                new ControllerExpandVolumeRequest
                {
                    VolumeId = id,
                    CapacityRange = new Csi.V1.CapacityRange { RequiredBytes = bytes },
                }
            )
            .ResponseAsync;

    private async Task<long> BytesAsync(string dataset, string property) =>
        long.Parse(await driver.GetPropertyAsync(dataset, property));

    [Fact]
    public async Task A_retry_after_a_timeout_between_quota_and_reservation_raises_the_reservation()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-expand-cut"), 8 * MiB, parameters: Thick)))
            .Volume
            .VolumeId;
        await driver.ArmAsync();

        var cut = await Assert.ThrowsAsync<RpcException>(() => ExpandAsync(id, 16 * MiB));
        Assert.Equal(StatusCode.DeadlineExceeded, cut.StatusCode);
        Assert.False(driver.IsArmed);
        // The state the bug left: the quota grew, the reservation did not.
        Assert.Equal(16 * MiB, await BytesAsync(id, "refquota"));
        Assert.Equal(8 * MiB, await BytesAsync(id, "refreservation"));

        // The CO retries the same size: the quota already has it, the reservation catches up.
        Assert.Equal(16 * MiB, (await ExpandAsync(id, 16 * MiB)).CapacityBytes);
        Assert.Equal(16 * MiB, await BytesAsync(id, "refquota"));
        Assert.Equal(16 * MiB, await BytesAsync(id, "refreservation"));

        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
    }

    [Fact]
    public async Task A_retry_that_cannot_reserve_is_resource_exhausted_keeps_the_quota_and_a_later_retry_finishes()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-expand-full"), 8 * MiB, parameters: Thick)))
            .Volume
            .VolumeId;
        var available = await BytesAsync(driver.Pool.Parent, "available");
        var target = available / 2 / MiB * MiB;
        await driver.ArmAsync();
        Assert.Equal(
            StatusCode.DeadlineExceeded,
            (await Assert.ThrowsAsync<RpcException>(() => ExpandAsync(id, target))).StatusCode
        );

        // Meanwhile another thick volume takes most of the pool: the reservation cannot catch up now.
        var filler = (
            await Controller.CreateVolumeAsync(
                Create(Unique("pvc-expand-filler"), available - target / 2, parameters: Thick)
            )
        )
            .Volume
            .VolumeId;
        try
        {
            var full = await Assert.ThrowsAsync<RpcException>(() => ExpandAsync(id, target));
            Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
            Assert.Contains("interrupted expansion", full.Status.Detail);
            // Never lowered: the CO may already have been told the larger size.
            Assert.Equal(target, await BytesAsync(id, "refquota"));
            Assert.Equal(8 * MiB, await BytesAsync(id, "refreservation"));
        }
        finally
        {
            await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = filler });
        }

        Assert.Equal(target, (await ExpandAsync(id, target)).CapacityBytes);
        Assert.Equal(target, await BytesAsync(id, "refreservation"));
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
    }

    [Fact]
    public async Task An_uninterrupted_thick_expansion_sets_both_in_one_call()
    {
        var id = (await Controller.CreateVolumeAsync(Create(Unique("pvc-expand-ok"), 8 * MiB, parameters: Thick)))
            .Volume
            .VolumeId;

        Assert.Equal(24 * MiB, (await ExpandAsync(id, 24 * MiB)).CapacityBytes);

        Assert.Equal(24 * MiB, await BytesAsync(id, "refquota"));
        Assert.Equal(24 * MiB, await BytesAsync(id, "refreservation"));
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
    }
}
