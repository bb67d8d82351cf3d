using ZfsCsi.Bootstrap.Pool;

namespace ZfsCsi.Tests.Bootstrap;

public sealed class PoolStatusTests
{
    // zfs-fuse 0.7, one mirror disk moved away before import (seen on this machine).
    private const string ZfsFuseDegraded = """
          pool: bsprobe
         state: DEGRADED
        status: One or more devices could not be opened.  Sufficient replicas exist for
        	the pool to continue functioning in a degraded state.
        action: Attach the missing device and online it using 'zpool online'.
           see: http://www.sun.com/msg/ZFS-8000-2Q
         scrub: none requested
        config:

        	NAME                     STATE     READ WRITE CKSUM
        	bsprobe                  DEGRADED     0     0     0
        	  mirror-0               DEGRADED     0     0     0
        	    /var/tmp/bsprobe/d1  ONLINE       0     0     0
        	    9593715536230943792  UNAVAIL      0     0     0  was /var/tmp/bsprobe/d2

        errors: No known data errors
        """;

    // OpenZFS 2.x prints scan: where zfs-fuse prints scrub:.
    private const string OpenZfsOnline = """
          pool: data
         state: ONLINE
          scan: scrub repaired 0B in 00:10:02 with 0 errors on Sun Nov  8 00:34:03 2026
        config:

        	NAME                                  STATE     READ WRITE CKSUM
        	data                                  ONLINE       0     0     0
        	  mirror-0                            ONLINE       0     0     0
        	    ata-CT1000MX500SSD1_1914E1F7DAA6  ONLINE       0     0     0
        	    sdd                               ONLINE       0     0     0

        errors: No known data errors
        """;

    [Fact]
    public void A_zfs_fuse_degraded_mirror_names_the_missing_disk_and_the_action()
    {
        var status = PoolStatus.Parse(ZfsFuseDegraded);

        Assert.Equal("DEGRADED", status.State);
        Assert.Equal("none requested", status.Scan);
        Assert.StartsWith("Attach the missing device", status.Action, StringComparison.Ordinal);
        Assert.Contains("continue functioning in a degraded state", status.Status, StringComparison.Ordinal);
        Assert.Equal("No known data errors", status.Errors);
        Assert.Equal("9593715536230943792 UNAVAIL (was /var/tmp/bsprobe/d2)", status.DescribeProblems("bsprobe"));
    }

    [Fact]
    public void An_OpenZFS_online_pool_reads_scan_and_has_no_problems()
    {
        var status = PoolStatus.Parse(OpenZfsOnline);

        Assert.Equal("ONLINE", status.State);
        Assert.StartsWith("scrub repaired 0B", status.Scan, StringComparison.Ordinal);
        Assert.Empty(status.Problems);
    }

    [Fact]
    public void Unknown_output_gives_an_unknown_state_instead_of_throwing() =>
        Assert.Equal("UNKNOWN", PoolStatus.Parse("something else entirely\n").State);
}
