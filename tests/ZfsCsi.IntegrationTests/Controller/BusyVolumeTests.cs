using Csi.V1;
using Grpc.Core;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.IntegrationTests.Snapshots;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>
/// The real zfs behind a gate: a `zfs set` naming a held volume waits while the gate file exists,
/// so a test can keep one operation in flight for as long as it needs, then let it finish.
/// </summary>
public sealed class GatedZfsFixture : DriverFixture
{
    private readonly string _dir = $"/tmp/zfs-csi-tests/gated-zfs-{Guid.NewGuid():N}";

    public string Gate => Path.Combine(_dir, "gate");
    public string HeldFile => Path.Combine(_dir, "held");
    private string Script => Path.Combine(_dir, "zfs");

    protected override IEnumerable<string> ExtraArgs => ["--mode", "controller", "--zfs", Script];

    public override async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        // Which dataset is held is read from a file, so one driver serves every test. The wait is
        // bounded (20 s) so a failing test cannot leave a zfs process behind for long.
        await File.WriteAllTextAsync(
            Script,
            $$"""
            #!/bin/sh
            held=$(cat '{{HeldFile}}' 2>/dev/null)
            if [ "$1" = set ] && [ -n "$held" ] && [ "$3" = "$held" ]; then
              i=0
              while [ -e '{{Gate}}' ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
            fi
            exec /usr/sbin/zfs "$@"
            """
        );
        File.SetUnixFileMode(Script, (UnixFileMode)0x1ED);
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        File.Delete(Gate);
        await base.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>
/// CSI spec, "Concurrency": a plugin SHOULD answer ABORTED for a call on a volume with an operation
/// in progress; other volumes are not held up.
/// </summary>
public sealed class BusyVolumeTests(GatedZfsFixture driver) : IClassFixture<GatedZfsFixture>
{
    private Csi.V1.Controller.ControllerClient Controller => driver.Client.Controller;

    private static ControllerExpandVolumeRequest Expand(string id, long bytes) =>
        new()
        {
            VolumeId = id,
            CapacityRange = new Csi.V1.CapacityRange { RequiredBytes = bytes },
        };

    [Fact]
    public async Task Calls_on_a_volume_with_an_operation_in_flight_are_aborted_while_another_volume_proceeds()
    {
        var busy = (await Controller.CreateVolumeAsync(Create(Unique("pvc-busy"), 8 * MiB))).Volume.VolumeId;
        var free = (await Controller.CreateVolumeAsync(Create(Unique("pvc-free"), 8 * MiB))).Volume.VolumeId;
        await File.WriteAllTextAsync(driver.Gate, "");
        await File.WriteAllTextAsync(driver.HeldFile, busy);
        try
        {
            var inFlight = Controller.ControllerExpandVolumeAsync(Expand(busy, 16 * MiB)).ResponseAsync;
            await WaitUntilAsync(() =>
                driver.Commands.Commands.Any(c => c.Arguments is ["set", "refquota=16777216", var d] && d == busy)
            );

            Assert.Equal(
                StatusCode.Aborted,
                await SnapshotFixture.CodeOfAsync(() =>
                    Controller.ControllerExpandVolumeAsync(Expand(busy, 24 * MiB)).ResponseAsync
                )
            );
            Assert.Equal(
                StatusCode.Aborted,
                await SnapshotFixture.CodeOfAsync(() =>
                    Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = busy }).ResponseAsync
                )
            );
            Assert.Equal(
                StatusCode.Aborted,
                await SnapshotFixture.CodeOfAsync(() =>
                    Controller
                        .CreateSnapshotAsync(
                            new CreateSnapshotRequest { Name = Unique("snapshot-busy"), SourceVolumeId = busy }
                        )
                        .ResponseAsync
                )
            );
            await Controller.ControllerExpandVolumeAsync(Expand(free, 24 * MiB));
            Assert.Equal("25165824", await driver.GetPropertyAsync(free, "refquota"));
            Assert.False(inFlight.IsCompleted);

            File.Delete(driver.Gate);
            Assert.Equal(16 * MiB, (await inFlight).CapacityBytes);
        }
        finally
        {
            File.Delete(driver.Gate);
            File.Delete(driver.HeldFile);
        }
        Assert.Equal("16777216", await driver.GetPropertyAsync(busy, "refquota"));
        await Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = busy });
        Assert.DoesNotContain(busy, await driver.ChildDatasetsAsync());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50);
        }
        Assert.True(condition(), "the operation never reached zfs");
    }
}
