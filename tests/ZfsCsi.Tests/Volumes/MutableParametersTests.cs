using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Tests.Volumes;

public sealed class MutableParametersTests
{
    private static MutableParameters Parse(params (string Key, string Value)[] pairs) =>
        MutableParameters.Parse(pairs.ToDictionary(p => p.Key, p => p.Value));

    [Fact]
    public void The_keys_a_volume_attributes_class_may_change_are_parsed_by_the_storage_class_rules()
    {
        var m = Parse(
            ("compression", "gzip"),
            ("recordsize", "64K"),
            ("atime", "off"),
            ("property.com.sun:auto-snapshot", "false"),
            ("property.logbias", "throughput"),
            ("provisioning", "thick"),
            ("quotaType", "quota")
        );

        Assert.Equal(QuotaType.Quota, m.QuotaType);
        Assert.True(m.Thick);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["atime"] = "off",
                ["com.sun:auto-snapshot"] = "false",
                ["compression"] = "gzip",
                ["logbias"] = "throughput",
                ["recordsize"] = "64K",
            },
            m.ZfsProperties
        );
    }

    [Fact]
    public void Keys_not_given_are_not_held_so_nothing_changes_by_absence()
    {
        var m = Parse(("compression", "gzip"));

        Assert.Null(m.QuotaType);
        Assert.Null(m.Thick);
        Assert.Null(m.RootMode);
        Assert.Single(m.ZfsProperties);
    }

    [Theory]
    [InlineData("property.casesensitivity", "mixed")]
    [InlineData("property.normalization", "formD")]
    [InlineData("property.utf8only", "on")]
    [InlineData("property.encryption", "on")]
    [InlineData("property.keyformat", "passphrase")]
    public void A_property_zfs_fixes_at_creation_is_invalid_and_the_message_points_to_the_storage_class(
        string key,
        string value
    )
    {
        var e = Assert.Throws<InvalidInputException>(() => Parse((key, value)));

        Assert.Contains("StorageClass", e.Message, StringComparison.Ordinal);
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("iops", "3000")]
    [InlineData("throughput", "100")]
    [InlineData("Compression", "on")]
    public void An_unknown_key_is_invalid(string key, string value)
    {
        var e = Assert.Throws<InvalidInputException>(() => Parse((key, value)));

        Assert.Contains("unknown mutable parameter", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("compression", "fast")]
    [InlineData("recordsize", "100K")]
    [InlineData("provisioning", "fat")]
    [InlineData("quotaType", "userquota")]
    [InlineData("property.mountpoint", "/elsewhere")]
    [InlineData("property.refquota", "1G")]
    [InlineData("property.used", "1")]
    [InlineData("property.sharenfs", "on")]
    public void A_value_or_property_the_storage_class_refuses_is_refused_here_too(string key, string value)
    {
        Assert.Throws<InvalidInputException>(() => Parse((key, value)));
    }

    [Fact]
    public void Compression_and_property_compression_are_one_key_and_given_twice_are_invalid()
    {
        Assert.Equal("compression", MutableParameters.CanonicalKey("property.compression"));
        Assert.Equal("property.logbias", MutableParameters.CanonicalKey("property.logbias"));
        Assert.Throws<InvalidInputException>(() => Parse(("compression", "on"), ("property.compression", "gzip")));
    }

    [Fact]
    public void Kubernetes_own_keys_are_accepted_and_not_held()
    {
        Assert.True(Parse(("csi.storage.k8s.io/pvc/name", "data")).IsEmpty);
    }

    [Fact]
    public void More_than_four_kibibytes_is_invalid()
    {
        Assert.Throws<InvalidInputException>(() =>
            Parse(
                ("property.org.example:big", new string('a', 1000)),
                ("property.org.example:b2", new string('a', 1000)),
                ("property.org.example:b3", new string('a', 1000)),
                ("property.org.example:b4", new string('a', 1000)),
                ("property.org.example:b5", new string('a', 200))
            )
        );
    }

    [Fact]
    public void A_root_mode_is_held_as_four_octal_digits_so_0775_and_775_are_the_same()
    {
        Assert.Equal(Parse(("rootMode", "775")).CanonicalText, Parse(("rootMode", "0775")).CanonicalText);
        Assert.Equal("rootMode=0775", Parse(("rootMode", "775")).CanonicalText);
    }

    [Fact]
    public void The_marker_round_trips_and_no_marker_is_none()
    {
        var m = Parse(("compression", "gzip"), ("property.org.example:x", "a=b"), ("rootUid", "1000"));

        Assert.Equal(m.CanonicalText, MutableParameters.Decode(m.Encode())!.CanonicalText);
        Assert.Same(MutableParameters.None, MutableParameters.Decode(null));
        Assert.Null(MutableParameters.Decode("not base64 !"));
        Assert.Null(MutableParameters.Decode(Markers.EncodeName("iops=3000")));
    }

    [Fact]
    public void A_modify_keeps_the_recorded_values_of_keys_it_does_not_name()
    {
        var recorded = Parse(("compression", "gzip"), ("atime", "off"));

        var after = Parse(("property.compression", "off"), ("recordsize", "16K")).Over(recorded);

        Assert.Equal("atime=off\ncompression=off\nrecordsize=16K", after.CanonicalText);
    }

    [Fact]
    public void Applied_to_storage_class_parameters_they_add_their_values_and_keep_the_storage_class_digest()
    {
        var sc = VolumeParameters.Parse(new Dictionary<string, string> { ["atime"] = "off" });

        var effective = Parse(("compression", "gzip"), ("provisioning", "thick"), ("rootMode", "2775")).AppliedTo(sc);

        Assert.Equal(
            new Dictionary<string, string> { ["atime"] = "off", ["compression"] = "gzip" },
            effective.ZfsProperties
        );
        Assert.True(effective.Thick);
        Assert.Equal((UnixFileMode)Convert.ToInt32("2775", 8), effective.RootMode);
        Assert.Equal(sc.Digest, effective.Digest);
    }

    [Theory]
    [InlineData("compression", "compression")]
    [InlineData("property.compression", "compression")]
    [InlineData("compression", "property.compression")]
    [InlineData("property.logbias", "property.logbias")]
    public void A_key_both_in_the_storage_class_and_in_the_mutable_parameters_takes_the_mutable_value(
        string storageClassKey,
        string mutableKey
    )
    {
        var (before, after) = mutableKey.EndsWith("logbias", StringComparison.Ordinal)
            ? ("throughput", "latency")
            : ("off", "gzip");
        var sc = VolumeParameters.Parse(new Dictionary<string, string> { [storageClassKey] = before });

        var effective = Parse((mutableKey, after)).AppliedTo(sc);

        Assert.Equal(after, Assert.Single(effective.ZfsProperties).Value);
        Assert.Equal(sc.Digest, effective.Digest);
    }

    [Fact]
    public void Provisioning_in_both_takes_the_mutable_value()
    {
        var sc = VolumeParameters.Parse(new Dictionary<string, string> { ["provisioning"] = "thin" });

        Assert.True(Parse(("provisioning", "thick")).AppliedTo(sc).Thick);
    }
}
