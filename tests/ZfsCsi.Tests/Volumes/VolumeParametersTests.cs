using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;

namespace ZfsCsi.Tests.Volumes;

public sealed class VolumeParametersTests
{
    private static VolumeParameters Parse(params (string Key, string Value)[] pairs) =>
        VolumeParameters.Parse(pairs.ToDictionary(p => p.Key, p => p.Value));

    private static InvalidInputException Invalid(params (string Key, string Value)[] pairs) =>
        Assert.Throws<InvalidInputException>(() => Parse(pairs));

    [Fact]
    public void No_parameters_mean_thin_refquota_mode_0777_and_no_properties()
    {
        var p = Parse();

        Assert.Equal(QuotaType.RefQuota, p.QuotaType);
        Assert.False(p.Thick);
        Assert.Empty(p.ZfsProperties);
        Assert.Equal((UnixFileMode)0x1FF, p.RootMode);
        Assert.Null(p.RootUid);
        Assert.Null(p.RootGid);
        Assert.Equal("refquota", p.QuotaProperty);
        Assert.Equal("refreservation", p.ReservationProperty);
        Assert.Equal(VolumeParameters.Default.Digest, p.Digest);
    }

    [Fact]
    public void Every_known_key_is_read()
    {
        var p = Parse(
            ("quotaType", "quota"),
            ("provisioning", "thick"),
            ("compression", "lz4"),
            ("recordsize", "128K"),
            ("atime", "off"),
            ("rootMode", "2775"),
            ("rootUid", "1000"),
            ("rootGid", "0"),
            ("property.logbias", "throughput"),
            ("property.com.sun:auto-snapshot", "false")
        );

        Assert.Equal(QuotaType.Quota, p.QuotaType);
        Assert.True(p.Thick);
        Assert.Equal("quota", p.QuotaProperty);
        Assert.Equal("reservation", p.ReservationProperty);
        Assert.Equal((UnixFileMode)Convert.ToInt32("2775", 8), p.RootMode);
        Assert.Equal(1000, p.RootUid);
        Assert.Equal(0, p.RootGid);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["atime"] = "off",
                ["com.sun:auto-snapshot"] = "false",
                ["compression"] = "lz4",
                ["logbias"] = "throughput",
                ["recordsize"] = "128K",
            },
            p.ZfsProperties
        );
    }

    [Theory]
    [InlineData("quotaType", "refquota")]
    [InlineData("provisioning", "thin")]
    [InlineData("compression", "on")]
    [InlineData("compression", "off")]
    [InlineData("compression", "gzip-9")]
    [InlineData("compression", "zstd-19")]
    [InlineData("compression", "zstd-fast-10")]
    [InlineData("recordsize", "512")]
    [InlineData("recordsize", "16M")]
    [InlineData("recordsize", "1m")]
    [InlineData("recordsize", "131072")]
    [InlineData("atime", "on")]
    [InlineData("rootMode", "777")]
    [InlineData("rootMode", "0755")]
    [InlineData("rootMode", "1777")]
    [InlineData("rootUid", "0")]
    [InlineData("rootGid", "65534")]
    [InlineData("property.xattr", "sa")]
    [InlineData("property.org.example:owner", "team-a@example.com")]
    public void Good_values_are_accepted(string key, string value)
    {
        Parse((key, value));
    }

    [Theory]
    [InlineData("quotaType", "Quota")]
    [InlineData("quotaType", "")]
    [InlineData("provisioning", "thick ")]
    [InlineData("provisioning", "eager")]
    [InlineData("compression", "zstd-20")]
    [InlineData("compression", "gzip-0")]
    [InlineData("compression", "LZ4")]
    [InlineData("compression", "lz4;rm")]
    [InlineData("recordsize", "1000")]
    [InlineData("recordsize", "256")]
    [InlineData("recordsize", "32M")]
    [InlineData("recordsize", "128KB")]
    [InlineData("recordsize", "-128K")]
    [InlineData("recordsize", "")]
    [InlineData("atime", "yes")]
    [InlineData("rootMode", "999")]
    [InlineData("rootMode", "77")]
    [InlineData("rootMode", "u+rwx")]
    [InlineData("rootUid", "-1")]
    [InlineData("rootUid", "root")]
    [InlineData("rootUid", "99999999999")]
    [InlineData("rootGid", " 1")]
    [InlineData("rootGid", "")]
    public void A_bad_value_is_invalid_input_naming_the_key(string key, string value)
    {
        var e = Invalid((key, value));

        Assert.Contains(key, e.Message);
        Assert.Contains("expected", e.Message);
    }

    [Theory]
    [InlineData("quotatype")]
    [InlineData("fsType")]
    [InlineData("compresion")]
    [InlineData("")]
    [InlineData("property")]
    [InlineData("csi.storage.k8s.io")]
    public void An_unknown_key_is_invalid_input_that_lists_the_known_ones(string key)
    {
        var e = Invalid((key, "x"));

        Assert.Contains("unknown parameter", e.Message);
        Assert.Contains("quotaType", e.Message);
    }

    [Fact]
    public void Kubernetes_own_keys_are_accepted_and_not_stored()
    {
        var p = Parse(
            ("csi.storage.k8s.io/pvc/name", "data-0"),
            ("csi.storage.k8s.io/pvc/namespace", "default"),
            ("csi.storage.k8s.io/pv/name", "pvc-1"),
            ("csi.storage.k8s.io/provisioner-secret-name", "anything\tgoes")
        );

        Assert.Empty(p.ZfsProperties);
        Assert.Equal(VolumeParameters.Default.Digest, p.Digest);
    }

    [Theory]
    [InlineData("mountpoint")]
    [InlineData("canmount")]
    [InlineData("quota")]
    [InlineData("refquota")]
    [InlineData("reservation")]
    [InlineData("refreservation")]
    [InlineData("volsize")]
    [InlineData("zoned")]
    [InlineData("encryption")]
    [InlineData("keylocation")]
    [InlineData("origin")]
    [InlineData("zfs-csi:state")]
    [InlineData("zfs-csi:name")]
    public void Properties_the_driver_manages_itself_are_refused(string property)
    {
        var e = Invalid(($"property.{property}", "none"));

        Assert.Contains("manages", e.Message);
    }

    [Theory]
    [InlineData("used")]
    [InlineData("creation")]
    [InlineData("mounted")]
    [InlineData("type")]
    [InlineData("written")]
    [InlineData("userrefs")]
    public void Read_only_properties_are_refused_before_anything_is_made(string property)
    {
        var e = Invalid(($"property.{property}", "1"));

        Assert.Contains("read-only", e.Message);
    }

    [Theory]
    [InlineData("sharenfs")]
    [InlineData("sharesmb")]
    public void Sharing_properties_are_refused_because_volumes_reach_pods_through_data(string property)
    {
        var e = Invalid(($"property.{property}", "on"));

        Assert.Contains("/data", e.Message);
    }

    [Theory]
    [InlineData("property.")]
    [InlineData("property.Logbias")]
    [InlineData("property.1abc")]
    [InlineData("property.log bias")]
    [InlineData("property.log\tbias")]
    [InlineData("property.log\nbias")]
    [InlineData("property.userquota@1000")]
    [InlineData("property.a=b")]
    [InlineData("property.-o")]
    [InlineData("property.caf\u00e9:x")]
    public void A_property_name_outside_zfs_syntax_is_refused(string key)
    {
        Invalid((key, "on"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("tab\there")]
    [InlineData("new\nline")]
    [InlineData("'quoted'")]
    [InlineData("\"quoted\"")]
    [InlineData("$(reboot)")]
    [InlineData("caf\u00e9")]
    [InlineData("nul\0")]
    public void A_property_value_with_unsafe_characters_is_refused(string value)
    {
        var e = Invalid(("property.org.example:note", value));

        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\t', e.Message);
    }

    [Fact]
    public void A_property_value_of_1024_characters_is_accepted_and_1025_refused()
    {
        Parse(("property.org.example:n", new string('v', 1024)));
        Invalid(("property.org.example:n", new string('v', 1025)));
    }

    [Fact]
    public void Parameters_of_exactly_4_KiB_are_accepted_and_one_byte_more_refused()
    {
        // Kubernetes keys count too: the CSI size limit is on the whole map.
        var key = "csi.storage.k8s.io/pad";
        var at = new Dictionary<string, string>
        {
            [key] = new string('x', VolumeParameters.MaxTotalBytes - key.Length),
        };
        var over = new Dictionary<string, string>
        {
            [key] = new string('x', VolumeParameters.MaxTotalBytes - key.Length + 1),
        };

        VolumeParameters.Parse(at);
        var e = Assert.Throws<InvalidInputException>(() => VolumeParameters.Parse(over));
        Assert.Contains("4096", e.Message);
    }

    [Fact]
    public void The_limit_counts_utf8_bytes()
    {
        var key = "csi.storage.k8s.io/pad";
        var value = new string('\u00e9', (VolumeParameters.MaxTotalBytes - key.Length) / 2 + 1);

        Assert.Throws<InvalidInputException>(() =>
            VolumeParameters.Parse(new Dictionary<string, string> { [key] = value })
        );
    }

    [Fact]
    public void The_digest_does_not_depend_on_key_order()
    {
        (string, string)[] pairs =
        [
            ("compression", "lz4"),
            ("quotaType", "quota"),
            ("property.logbias", "throughput"),
            ("rootUid", "1000"),
            ("provisioning", "thick"),
            ("atime", "off"),
            ("csi.storage.k8s.io/pvc/name", "x"),
        ];

        Assert.Equal(Parse(pairs).Digest, Parse([.. pairs.Reverse()]).Digest);
        Assert.Equal(Parse(pairs).Digest, Parse([.. pairs.OrderBy(p => p.Item2, StringComparer.Ordinal)]).Digest);
    }

    [Fact]
    public void Equivalent_mode_spellings_have_the_same_digest()
    {
        Assert.Equal(Parse(("rootMode", "0777")).Digest, Parse(("rootMode", "777")).Digest);
        Assert.Equal(Parse(("rootMode", "0777")).Digest, Parse().Digest);
    }

    [Theory]
    [InlineData("quotaType", "quota")]
    [InlineData("provisioning", "thick")]
    [InlineData("compression", "off")]
    [InlineData("recordsize", "64K")]
    [InlineData("atime", "on")]
    [InlineData("rootMode", "0750")]
    [InlineData("rootUid", "1001")]
    [InlineData("rootGid", "1001")]
    [InlineData("property.logbias", "latency")]
    [InlineData("property.org.example:team", "b")]
    public void Changing_any_value_changes_the_digest(string key, string value)
    {
        var baseline = new Dictionary<string, string>
        {
            ["quotaType"] = "refquota",
            ["provisioning"] = "thin",
            ["compression"] = "lz4",
            ["recordsize"] = "128K",
            ["atime"] = "off",
            ["rootMode"] = "0777",
            ["rootUid"] = "1000",
            ["rootGid"] = "1000",
            ["property.logbias"] = "throughput",
            ["property.org.example:team"] = "a",
        };
        var changed = new Dictionary<string, string>(baseline) { [key] = value };

        Assert.NotEqual(VolumeParameters.Parse(baseline).Digest, VolumeParameters.Parse(changed).Digest);
    }

    [Fact]
    public void Unset_uid_and_uid_0_have_different_digests()
    {
        Assert.NotEqual(Parse().Digest, Parse(("rootUid", "0")).Digest);
    }

    [Fact]
    public void A_property_given_both_by_its_key_and_as_property_dot_is_refused()
    {
        Invalid(("compression", "lz4"), ("property.compression", "off"));
        Invalid(("property.recordsize", "1M"), ("recordsize", "128K"));
        Invalid(("atime", "on"), ("property.atime", "off"));
    }

    [Fact]
    public void An_error_message_escapes_control_characters()
    {
        var e = Invalid(("atime", "o\nn\u001b"));

        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\u001b', e.Message);
    }
}
