namespace ZfsCsi.Tests.Fakes;

/// <summary>
/// Text captured from the real zfs-fuse 0.7 daemon on this machine (2026-11-25) against a throwaway
/// pool, with the pool renamed to "data" so it sits where the tests' parent data/k8s is. pvc-1
/// carries the driver's markers, "foreign" is a dataset another tool made, pvc-1@snap1 a snapshot
/// (which shows pvc-1's markers as inherited). Used by parser, client and volume manager tests.
/// </summary>
public static class ZfsFuseOutput
{
    // The rows each dataset prints, in the order zfs prints them: a listing is these blocks one
    // after another (each listing was captured whole; these blocks rebuild it byte for byte).

    /// <summary>The parent data/k8s: no markers, inherited mountpoint.</summary>
    private const string ParentRows =
        "data/k8s\tzfs-csi:name\t-\t-\n"
        + "data/k8s\tzfs-csi:parameters\t-\t-\n"
        + "data/k8s\tzfs-csi:state\t-\t-\n"
        + "data/k8s\trefquota\t0\tdefault\n"
        + "data/k8s\tquota\t0\tdefault\n"
        + "data/k8s\trefreservation\t0\tdefault\n"
        + "data/k8s\treservation\t0\tdefault\n"
        + "data/k8s\tmountpoint\t/tmp/data/k8s\tinherited from data\n"
        + "data/k8s\tmounted\tyes\t-\n";

    /// <summary>"foreign": a dataset another tool made (its own refquota, no markers).</summary>
    private const string ForeignRows =
        "data/k8s/foreign\tzfs-csi:name\t-\t-\n"
        + "data/k8s/foreign\tzfs-csi:parameters\t-\t-\n"
        + "data/k8s/foreign\tzfs-csi:state\t-\t-\n"
        + "data/k8s/foreign\trefquota\t2147483648\tlocal\n"
        + "data/k8s/foreign\tquota\t0\tdefault\n"
        + "data/k8s/foreign\trefreservation\t0\tdefault\n"
        + "data/k8s/foreign\treservation\t0\tdefault\n"
        + "data/k8s/foreign\tmountpoint\t/tmp/data/k8s/foreign\tinherited from data\n"
        + "data/k8s/foreign\tmounted\tyes\t-\n";

    /// <summary>pvc-1: a ready volume of ours, 1 GiB.</summary>
    private const string Pvc1Rows =
        "data/k8s/pvc-1\tzfs-csi:name\tcHZjLTE\tlocal\n"
        + "data/k8s/pvc-1\tzfs-csi:parameters\tabcdef0123456789\tlocal\n"
        + "data/k8s/pvc-1\tzfs-csi:state\tready\tlocal\n"
        + "data/k8s/pvc-1\trefquota\t1073741824\tlocal\n"
        + "data/k8s/pvc-1\tquota\t0\tdefault\n"
        + "data/k8s/pvc-1\trefreservation\t0\tdefault\n"
        + "data/k8s/pvc-1\treservation\t0\tdefault\n"
        + "data/k8s/pvc-1\tmountpoint\t/tmp/data/k8s/pvc-1\tinherited from data\n"
        + "data/k8s/pvc-1\tmounted\tyes\t-\n";

    /// <summary>pvc-1@snap1: its snapshot, the markers inherited from pvc-1.</summary>
    private const string Snap1Rows =
        "data/k8s/pvc-1@snap1\tzfs-csi:name\tcHZjLTE\tinherited from data/k8s/pvc-1\n"
        + "data/k8s/pvc-1@snap1\tzfs-csi:parameters\tabcdef0123456789\tinherited from data/k8s/pvc-1\n"
        + "data/k8s/pvc-1@snap1\tzfs-csi:state\tready\tinherited from data/k8s/pvc-1\n"
        + "data/k8s/pvc-1@snap1\trefquota\t-\t-\n"
        + "data/k8s/pvc-1@snap1\tquota\t-\t-\n"
        + "data/k8s/pvc-1@snap1\trefreservation\t-\t-\n"
        + "data/k8s/pvc-1@snap1\treservation\t-\t-\n"
        + "data/k8s/pvc-1@snap1\tmountpoint\t-\t-\n"
        + "data/k8s/pvc-1@snap1\tmounted\t-\t-\n";

    /// <summary><c>zfs get -H -p -o name,property,value,source zfs-csi:name,...,mounted data/k8s/pvc-1</c></summary>
    public const string GetVolume = Pvc1Rows;

    /// <summary><c>zfs get -H -p -d 1 -o name,property,value,source zfs-csi:name,...,mounted data/k8s</c></summary>
    public const string GetChildren = ParentRows + ForeignRows + Pvc1Rows;

    /// <summary><c>zfs get -H -p -r -o ... data/k8s: the same plus a snapshot's rows (OpenZFS -d 1 lists snapshots like this too)</c></summary>
    public const string GetRecursive = GetChildren + Snap1Rows;

    /// <summary><c>zfs get -H -p -o name,property,value,source used,available data/k8s data (note: zfs prints the pool first)</c></summary>
    public const string GetCapacity =
        "data\tused\t913408\t-\n"
        + "data\tavailable\t94507008\t-\n"
        + "data/k8s\tused\t360448\t-\n"
        + "data/k8s\tavailable\t94507008\t-\n";

    /// <summary><c>zfs get -H -p -o ... com.example:note data/k8s/pvc-1, set to 'two words here'</c></summary>
    public const string GetUserPropertyWithSpaces = "data/k8s/pvc-1\tcom.example:note\ttwo words here\tlocal\n";

    /// <summary><c>zpool list -H -o name,health with other pools imported (the last one the throwaway pool, not renamed here)</c></summary>
    public const string ZpoolList =
        "data\tONLINE\n" + "zcsit11910x867c8\tONLINE\n" + "zcsit11910xca0d8\tONLINE\n" + "zcsiu9349\tONLINE\n";

    // stderr of failed commands, verbatim (exit code 1).

    public const string DatasetDoesNotExist = "cannot open 'data/k8s/nope': dataset does not exist\n";

    public const string DatasetAlreadyExists = "cannot create 'data/k8s/pvc-1': dataset already exists\n";

    public const string FilesystemHasChildren =
        "cannot destroy 'data/k8s/pvc-1': filesystem has children\nuse '-r' to destroy the following datasets:\ndata/k8s/pvc-1@snap1\n";

    public const string DatasetIsBusy = "cannot destroy 'data/k8s/foreign': dataset is busy\n";

    public const string BadNumericValue = "cannot set property for 'data/k8s/foreign': bad numeric value 'abc'\n";

    public const string CompressionMustBeOneOf =
        "cannot set property for 'data/k8s/foreign': 'compression' must be one of 'on | off | lzjb | gzip | gzip-[1-9] | zle'\n";

    public const string InvalidProperty = "cannot set property for 'data/k8s/foreign': invalid property 'nosuchprop'\n";

    public const string UseNoneToDisable =
        "cannot set property for 'data/k8s/foreign': use 'none' to disable quota/refquota\n";

    public static readonly string NameIsTooLong =
        "cannot create 'data/k8s/" + new string('a', 300) + "': name is too long\n";

    public const string InvalidCharacter = "cannot create 'data/k8s/a b!': invalid character '!' in name\n";

    public const string NoSuchPool = "cannot create 'nosuchpool/x': no such pool 'nosuchpool'\n";

    public const string NotCurrentlyMounted = "cannot unmount 'data/k8s/foreign': not currently mounted\n";

    public const string RecordSizeMustBePowerOf2 =
        "cannot set property for 'data/k8s/foreign': 'recordsize' must be power of 2 from 512 to 128k\n";

    public const string OutOfSpace = "cannot create 'data/k8s/big': out of space\n";

    public const string ReservationGreaterThanAvailable =
        "cannot set property for 'data/k8s/foreign': size is greater than available space\n";

    public const string QuotaBelowUsage =
        "cannot set property for 'data/k8s/pvc-1': size is less than current used or reserved space\n";

    public const string SnapshotHasDependentClones =
        "cannot destroy 'data/k8s/pvc-1@snap1': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\ndata/k8s/cl\n";

    // zpool import, captured from zfs-fuse 0.7 on 2026-12-02 with file vdevs under /var/tmp (pool renamed to "data").

    /// <summary><c>zpool import -d DIR data</c> where DIR holds no pool of that name.</summary>
    public const string ImportNoSuchPoolAvailable = "cannot import 'data': no such pool available\n";

    /// <summary><c>zpool import -d DIR data</c> of copies of a pool that was not exported, with another hostid in /etc/hostid.</summary>
    public const string ImportInUseFromOtherSystem =
        "cannot import 'data': pool may be in use from other system, it was last accessed by vm (hostid: 0x7f0100) on Wed Dec  2 16:51:18 2026\n"
        + "use '-f' to import anyway\n";

    /// <summary><c>zpool import -d DIR data</c> of a pool of two disks, one of them removed.</summary>
    public const string ImportDeviceUnavailable =
        "cannot import 'data': one or more devices is currently unavailable\n\tDestroy and re-create the pool from\n\ta backup source.\n";

    /// <summary><c>zpool import -N -d DIR data</c>: zfs-fuse's import has no -N (exit 2). The usage text names -f.</summary>
    public const string ImportHasNoN =
        "invalid option 'N'\nusage:\n\timport [-d dir] [-D]\n\timport [-d dir | -c cachefile] [-n] -F <pool | id>\n"
        + "\timport [-o mntopts] [-o property=value] ... \n\t    [-d dir | -c cachefile] [-D] [-f] [-R root] -a [-v]\n"
        + "\timport [-o mntopts] [-o property=value] ... \n\t    [-d dir | -c cachefile] [-D] [-f] [-R root] <pool | id> [newpool]\n";

    /// <summary>
    /// <c>zfs set atime=off compression=gzip data/k8s/pvc-1</c>: zfs-fuse takes one pair, reads the rest as
    /// dataset names, and has set atime (exit 1). Seen on zfs-fuse 0.7 on a throwaway pool, 2026-12-02.
    /// </summary>
    public const string SetSecondPairIsNoDataset = "cannot open 'compression=gzip': invalid dataset name\n";
}
