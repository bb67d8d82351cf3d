using ZfsCsi.Core.Zfs;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Zfs;

public sealed class ZfsParserTests
{
    [Fact]
    public void Captured_get_output_of_a_volume_parses_into_its_nine_properties()
    {
        var rows = ZfsParser.ParseGet(ZfsFuseOutput.GetVolume);

        Assert.Equal(9, rows.Count);
        Assert.All(rows, r => Assert.Equal("data/k8s/pvc-1", r.Dataset));
        Assert.Equal(new ZfsProperty("data/k8s/pvc-1", "zfs-csi:name", "cHZjLTE", "local"), rows[0]);
        Assert.Equal(
            new ZfsProperty("data/k8s/pvc-1", "mountpoint", "/tmp/data/k8s/pvc-1", "inherited from data"),
            rows[7]
        );
        Assert.Equal(new ZfsProperty("data/k8s/pvc-1", "mounted", "yes", "-"), rows[8]);
    }

    [Fact]
    public void A_value_with_spaces_stays_one_value()
    {
        var row = Assert.Single(ZfsParser.ParseGet(ZfsFuseOutput.GetUserPropertyWithSpaces));

        Assert.Equal("two words here", row.Value);
        Assert.True(row.IsLocal);
    }

    [Fact]
    public void A_source_with_spaces_stays_one_source_and_is_not_local()
    {
        var rows = ZfsParser.ParseGet(ZfsFuseOutput.GetVolume);
        var mountpoint = rows.Single(r => r.Name == "mountpoint");

        Assert.Equal("inherited from data", mountpoint.Source);
        Assert.False(mountpoint.IsLocal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\n\n")]
    public void Empty_output_is_no_rows(string output)
    {
        Assert.Empty(ZfsParser.ParseGet(output));
    }

    [Theory]
    [InlineData("data/k8s/pvc-1\trefquota\t1073741824\n")]
    [InlineData("data/k8s/pvc-1 refquota 1073741824 local\n")]
    [InlineData("data/k8s/pvc-1\tzfs-csi:name\tvalue\twith\ttabs\tlocal\n")]
    [InlineData("missing property argument\n")]
    public void A_malformed_line_is_a_format_exception(string output)
    {
        var e = Assert.Throws<FormatException>(() => ZfsParser.ParseGet(ZfsFuseOutput.GetVolume + output));
        Assert.Contains("4 tab-separated fields", e.Message);
    }

    [Fact]
    public void Rows_group_by_dataset_in_order_of_first_appearance()
    {
        var datasets = ZfsParser.GroupByDataset(ZfsParser.ParseGet(ZfsFuseOutput.GetRecursive));

        Assert.Equal(
            ["data/k8s", "data/k8s/foreign", "data/k8s/pvc-1", "data/k8s/pvc-1@snap1"],
            datasets.Select(d => d.Name)
        );
        var pvc = datasets[2];
        Assert.Equal("ready", pvc.LocalValue("zfs-csi:state"));
        Assert.Equal(1073741824, pvc.Bytes("refquota"));
        Assert.False(pvc.IsSnapshot);
    }

    [Fact]
    public void A_snapshot_shows_its_datasets_markers_only_as_inherited()
    {
        var snapshot = ZfsParser
            .GroupByDataset(ZfsParser.ParseGet(ZfsFuseOutput.GetRecursive))
            .Single(d => d.IsSnapshot);

        Assert.Equal("cHZjLTE", snapshot.Value("zfs-csi:name"));
        Assert.Null(snapshot.LocalValue("zfs-csi:name"));
        Assert.Null(snapshot.Bytes("refquota"));
    }

    [Fact]
    public void Capacity_rows_parse_whatever_order_zfs_prints_them_in()
    {
        var datasets = ZfsParser
            .GroupByDataset(ZfsParser.ParseGet(ZfsFuseOutput.GetCapacity))
            .ToDictionary(d => d.Name);

        Assert.Equal(913408, datasets["data"].Bytes("used"));
        Assert.Equal(94507008, datasets["data/k8s"].Bytes("available"));
    }

    [Fact]
    public void A_dataset_named_twice_prints_twice_and_groups_into_one()
    {
        // Captured: zfs get -H -p -o name,property,value,source used,available data data (a pool-root parent
        // makes GetCapacity name the same dataset twice).
        const string output =
            "data\tused\t2793472\t-\ndata\tavailable\t487940096\t-\ndata\tused\t2793472\t-\ndata\tavailable\t487940096\t-\n";

        var dataset = Assert.Single(ZfsParser.GroupByDataset(ZfsParser.ParseGet(output)));

        Assert.Equal(2793472, dataset.Bytes("used"));
        Assert.Equal(487940096, dataset.Bytes("available"));
    }

    [Theory]
    [InlineData("-")]
    [InlineData("none")]
    [InlineData("")]
    public void No_value_is_null_bytes(string value)
    {
        Assert.Null(ZfsParser.ParseBytes(value));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("114688", 114688)]
    [InlineData("1073741824", 1073741824)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Digits_are_bytes(string value, long expected)
    {
        Assert.Equal(expected, ZfsParser.ParseBytes(value));
    }

    [Theory]
    [InlineData("1G")]
    [InlineData("1.5")]
    [InlineData("-5")]
    [InlineData(" 12")]
    [InlineData("12 ")]
    [InlineData("abc")]
    [InlineData("18446744073709551615")]
    public void Anything_else_is_a_format_exception(string value)
    {
        Assert.Throws<FormatException>(() => ZfsParser.ParseBytes(value));
    }

    [Fact]
    public void Captured_pool_health_maps_every_pool_to_its_state()
    {
        var health = ZfsParser.ParsePoolHealth(ZfsFuseOutput.ZpoolList);

        Assert.Equal("ONLINE", health["data"]);
        Assert.Equal(ZfsFuseOutput.ZpoolList.Count(c => c == '\n'), health.Count);
    }

    [Fact]
    public void Pool_health_keeps_degraded_faulted_and_suspended_states()
    {
        var health = ZfsParser.ParsePoolHealth("data\tDEGRADED\nold\tFAULTED\ngone\tUNAVAIL\nhung\tSUSPENDED\n");

        Assert.Equal(
            ["DEGRADED", "FAULTED", "UNAVAIL", "SUSPENDED"],
            new[] { "data", "old", "gone", "hung" }.Select(p => health[p])
        );
    }

    [Fact]
    public void Empty_pool_list_is_no_pools()
    {
        Assert.Empty(ZfsParser.ParsePoolHealth(""));
    }

    [Fact]
    public void The_names_a_get_reports_missing_are_read_from_its_stderr()
    {
        // Captured from zfs-fuse 0.7 (OpenZFS 2.3 prints the same lines: tests/…/ZfsCommands).
        const string stderr =
            "cannot open 'expool/a@nope': dataset does not exist\ncannot open 'expool/b': dataset does not exist\n";

        Assert.Equal(new HashSet<string> { "expool/a@nope", "expool/b" }, ZfsParser.ParseMissingNames(stderr));
    }

    [Theory]
    [InlineData("")]
    [InlineData("cannot open 'data': pool I/O is currently suspended\n")]
    [InlineData("cannot open 'data/k8s/a': dataset does not exist\ninternal error: out of memory\n")]
    [InlineData("cannot open '': dataset does not exist\n")]
    public void A_get_failure_that_is_not_only_missing_names_is_not_read_as_such(string stderr)
    {
        Assert.Null(ZfsParser.ParseMissingNames(stderr));
    }
}
