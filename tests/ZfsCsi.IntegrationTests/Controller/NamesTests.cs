using Csi.V1;
using Grpc.Core;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>
/// CSI names are opaque strings: names ZFS cannot hold, and names that look like paths or shell,
/// still make exactly one volume directly under the parent, and a retry finds it again.
/// </summary>
public sealed class NamesTests(ControllerFixture driver) : IClassFixture<ControllerFixture>
{
    public static TheoryData<string> OddNames =>
        [
            "with/slash",
            "snap@shot",
            "per%cent",
            ".",
            "..",
            "-leading-dash",
            "with space",
            "quote'single",
            "quote\"double",
            "$(rm -rf /)",
            "semi;colon",
            "tab\there",
            "new\nline",
            "ünïcödé",
            "cr\rlf",
            "UPPER-case",
            "../../etc/passwd",
            new string('n', 128),
        ];

    [Theory]
    [MemberData(nameof(OddNames))]
    public async Task An_odd_name_makes_one_volume_directly_under_the_parent_and_a_retry_finds_it(string name)
    {
        var before = await driver.ChildDatasetsAsync();
        var first = await driver.Client.Controller.CreateVolumeAsync(Create(name));
        var again = await driver.Client.Controller.CreateVolumeAsync(Create(name));

        Assert.Equal(first.Volume.VolumeId, again.Volume.VolumeId);
        var added = Assert.Single((await driver.ChildDatasetsAsync()).Except(before));
        Assert.Equal(first.Volume.VolumeId, added);
        Assert.StartsWith(driver.Pool.Parent + "/", added);
        Assert.DoesNotContain('/', added[(driver.Pool.Parent.Length + 1)..]);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(first.Volume.VolumeId) <= 128);
        var mountpoint = await driver.GetPropertyAsync(added, "mountpoint");
        Assert.StartsWith(driver.Pool.Mountpoint + "/k8s/", Path.GetFullPath(mountpoint));

        await driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = first.Volume.VolumeId });
        Assert.Equal(before, await driver.ChildDatasetsAsync());
    }

    /// <summary>The control characters the CSI spec bans in names (CreateVolumeRequest.name).</summary>
    public static TheoryData<string> BannedNames =>
        [
            "nul\0char",
            "ctrl\u0001char",
            "bell\u0007",
            "vtab\u000b",
            "esc\u001b[2J",
            "del\u007f",
            "c1\u0085next",
            "c1\u009f",
        ];

    [Theory]
    [MemberData(nameof(BannedNames))]
    public async Task A_name_with_a_control_character_the_spec_bans_is_invalid_and_creates_nothing(string name)
    {
        var before = await driver.ChildDatasetsAsync();

        var e = await Assert.ThrowsAsync<RpcException>(() =>
            driver.Client.Controller.CreateVolumeAsync(Create(name)).ResponseAsync
        );

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("control character U+", e.Status.Detail);
        Assert.DoesNotContain('\u001b', e.Status.Detail); // quoted escaped, never raw
        Assert.Equal(before, await driver.ChildDatasetsAsync());
    }

    [Fact]
    public async Task Kubernetes_pvc_names_stay_readable_as_dataset_names()
    {
        var name = $"pvc-{Guid.NewGuid()}";
        var response = await driver.Client.Controller.CreateVolumeAsync(Create(name));
        Assert.Equal($"{driver.Pool.Parent}/{name}", response.Volume.VolumeId);
    }
}
