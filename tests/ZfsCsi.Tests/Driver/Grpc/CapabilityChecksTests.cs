using Csi.V1;
using Google.Protobuf.Collections;
using ZfsCsi.Core.Errors;
using ZfsCsi.Driver.Grpc;
using Mode = Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace ZfsCsi.Tests.Driver.Grpc;

public sealed class CapabilityChecksTests
{
    private static VolumeCapability Mount(Mode mode, string fsType = "") =>
        new()
        {
            Mount = new VolumeCapability.Types.MountVolume { FsType = fsType },
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = mode },
        };

    public static TheoryData<Mode> DefinedModes() => [.. Enum.GetValues<Mode>().Where(m => m != Mode.Unknown)];

    [Theory]
    [MemberData(nameof(DefinedModes))]
    public void Every_access_mode_is_served_for_a_mounted_volume(Mode mode)
    {
        Assert.Null(CapabilityChecks.Unsupported(Mount(mode)));
        CapabilityChecks.RequireSupported(Mount(mode));
    }

    [Theory]
    [InlineData("")]
    [InlineData("zfs")]
    public void No_fs_type_or_zfs_is_served(string fsType)
    {
        Assert.Null(CapabilityChecks.Unsupported(Mount(Mode.SingleNodeWriter, fsType)));
    }

    [Theory]
    [InlineData("ext4")]
    [InlineData("xfs")]
    [InlineData("ZFS")]
    [InlineData(" zfs")]
    public void Another_fs_type_is_refused_with_a_message(string fsType)
    {
        var why = CapabilityChecks.Unsupported(Mount(Mode.SingleNodeWriter, fsType));

        Assert.Contains("fs_type", why);
        Assert.Throws<InvalidInputException>(() =>
            CapabilityChecks.RequireSupported(Mount(Mode.SingleNodeWriter, fsType))
        );
    }

    [Fact]
    public void Block_access_is_refused_with_a_message()
    {
        var block = new VolumeCapability
        {
            Block = new VolumeCapability.Types.BlockVolume(),
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
        };

        Assert.Contains("block", CapabilityChecks.Unsupported(block));
        Assert.Throws<InvalidInputException>(() => CapabilityChecks.RequireSupported(block));
    }

    [Fact]
    public void A_capability_without_access_type_is_refused()
    {
        var none = new VolumeCapability
        {
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
        };

        Assert.Contains("access type", CapabilityChecks.Unsupported(none));
    }

    [Fact]
    public void A_capability_without_access_mode_is_refused()
    {
        var noMode = new VolumeCapability { Mount = new VolumeCapability.Types.MountVolume() };

        Assert.Contains("access mode", CapabilityChecks.Unsupported(noMode));
        Assert.Contains("access mode", CapabilityChecks.Unsupported(Mount(Mode.Unknown)));
    }

    [Fact]
    public void An_access_mode_the_spec_does_not_define_is_refused()
    {
        Assert.Contains("99", CapabilityChecks.Unsupported(Mount((Mode)99)));
    }

    [Fact]
    public void A_null_capability_is_refused()
    {
        Assert.NotNull(CapabilityChecks.Unsupported(null));
    }

    [Fact]
    public void An_empty_capability_list_is_refused()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            CapabilityChecks.RequireSupported(new RepeatedField<VolumeCapability>())
        );

        Assert.Contains("volume_capabilities", e.Message);
    }

    [Fact]
    public void One_unsupported_capability_in_a_list_refuses_the_list()
    {
        var list = new RepeatedField<VolumeCapability>
        {
            Mount(Mode.SingleNodeWriter),
            Mount(Mode.MultiNodeMultiWriter, "ext4"),
        };

        Assert.Throws<InvalidInputException>(() => CapabilityChecks.RequireSupported(list));
    }

    [Theory]
    [InlineData("")]
    public void A_required_field_that_is_empty_is_invalid_input_naming_it(string value)
    {
        var e = Assert.Throws<InvalidInputException>(() => CapabilityChecks.Required(value, "volume_id"));

        Assert.Contains("volume_id", e.Message);
        Assert.Equal("x", CapabilityChecks.Required("x", "volume_id"));
    }
}
