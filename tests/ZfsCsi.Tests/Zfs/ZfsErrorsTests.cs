using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Zfs;
using ZfsCsi.Tests.Fakes;

namespace ZfsCsi.Tests.Zfs;

public sealed class ZfsErrorsTests
{
    private static readonly CommandLine Command = new("zfs", "destroy", "data/k8s/pvc-1");

    private static CommandFailedException Classify(string stderr, int exitCode = 1) =>
        ZfsErrors.Classify(Command, new CommandResult(exitCode, "", stderr, TimeSpan.FromMilliseconds(3)));

    public static TheoryData<string, Type, ErrorKind> KnownTexts() =>
        new()
        {
            // docs/zfs.md, "Error texts": captured from zfs-fuse 0.7 on a development machine
            { ZfsFuseOutput.DatasetAlreadyExists, typeof(DatasetExistsException), ErrorKind.AlreadyExists },
            { ZfsFuseOutput.DatasetDoesNotExist, typeof(DatasetNotFoundException), ErrorKind.NotFound },
            { ZfsFuseOutput.NoSuchPool, typeof(ZfsPoolUnavailableException), ErrorKind.Unavailable },
            { ZfsFuseOutput.DatasetIsBusy, typeof(DatasetBusyException), ErrorKind.FailedPrecondition },
            { ZfsFuseOutput.OutOfSpace, typeof(ZfsOutOfSpaceException), ErrorKind.OutOfSpace },
            { ZfsFuseOutput.NameIsTooLong, typeof(ZfsInvalidArgumentException), ErrorKind.InvalidInput },
            { ZfsFuseOutput.InvalidCharacter, typeof(ZfsInvalidArgumentException), ErrorKind.InvalidInput },
            {
                ZfsFuseOutput.FilesystemHasChildren,
                typeof(DatasetHasDependentsException),
                ErrorKind.FailedPrecondition
            },
            {
                ZfsFuseOutput.SnapshotHasDependentClones,
                typeof(DatasetHasDependentsException),
                ErrorKind.FailedPrecondition
            },
            { ZfsFuseOutput.QuotaBelowUsage, typeof(ZfsQuotaBelowUsageException), ErrorKind.OutOfRange },
            { ZfsFuseOutput.BadNumericValue, typeof(ZfsInvalidArgumentException), ErrorKind.InvalidInput },
            { ZfsFuseOutput.InvalidProperty, typeof(ZfsInvalidArgumentException), ErrorKind.InvalidInput },
            { ZfsFuseOutput.CompressionMustBeOneOf, typeof(ZfsInvalidArgumentException), ErrorKind.InvalidInput },
            { ZfsFuseOutput.UseNoneToDisable, typeof(ZfsInvalidArgumentException), ErrorKind.InvalidInput },
            { ZfsFuseOutput.RecordSizeMustBePowerOf2, typeof(ZfsInvalidArgumentException), ErrorKind.InvalidInput },
            { ZfsFuseOutput.ReservationGreaterThanAvailable, typeof(ZfsOutOfSpaceException), ErrorKind.OutOfSpace },
            {
                ZfsFuseOutput.ImportNoSuchPoolAvailable,
                typeof(ZfsPoolNotFoundForImportException),
                ErrorKind.Unavailable
            },
            {
                ZfsFuseOutput.ImportInUseFromOtherSystem,
                typeof(ZfsPoolInUseElsewhereException),
                ErrorKind.FailedPrecondition
            },
            { ZfsFuseOutput.ImportDeviceUnavailable, typeof(ZfsPoolUnavailableException), ErrorKind.Unavailable },
            // OpenZFS 2.x variants
            {
                "cannot open 'data/k8s/x': dataset does not exist\n",
                typeof(DatasetNotFoundException),
                ErrorKind.NotFound
            },
            {
                "cannot destroy 'data/k8s/x': dataset is busy\n",
                typeof(DatasetBusyException),
                ErrorKind.FailedPrecondition
            },
            {
                "cannot unmount '/data/k8s/x': pool or dataset is busy\n",
                typeof(DatasetBusyException),
                ErrorKind.FailedPrecondition
            },
            { "cannot create 'data/k8s/x': out of space\n", typeof(ZfsOutOfSpaceException), ErrorKind.OutOfSpace },
            { "cannot open 'x': no such pool 'x'\n", typeof(ZfsPoolUnavailableException), ErrorKind.Unavailable },
            {
                "cannot create 'data/k8s/x': pool I/O is currently suspended\n",
                typeof(ZfsPoolUnavailableException),
                ErrorKind.Unavailable
            },
            {
                "cannot open 'data': pool is currently unavailable\n",
                typeof(ZfsPoolUnavailableException),
                ErrorKind.Unavailable
            },
            {
                "cannot set property for 'data/k8s/x': 'compression' must be one of 'on | off | lzjb | gzip | gzip-[1-9] | zle | lz4 | zstd | zstd-[1-19] | zstd-fast'\n",
                typeof(ZfsInvalidArgumentException),
                ErrorKind.InvalidInput
            },
            {
                "cannot set property for 'data/k8s/x': size is less than current used or reserved space\n",
                typeof(ZfsQuotaBelowUsageException),
                ErrorKind.OutOfRange
            },
            {
                "cannot destroy 'data/k8s/x': filesystem has children\nuse '-r' to destroy the following datasets:\ndata/k8s/x@s\n",
                typeof(DatasetHasDependentsException),
                ErrorKind.FailedPrecondition
            },
            {
                "cannot destroy 'data/k8s/x@s': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\ndata/k8s/c\n",
                typeof(DatasetHasDependentsException),
                ErrorKind.FailedPrecondition
            },
            {
                "cannot set property for 'data/k8s/x': 'recordsize' must be power of 2 from 512B to 1M\n",
                typeof(ZfsInvalidArgumentException),
                ErrorKind.InvalidInput
            },
            {
                "cannot set property for 'data/k8s/x': size is greater than available space\n",
                typeof(ZfsOutOfSpaceException),
                ErrorKind.OutOfSpace
            },
            {
                "could not find any snapshots to destroy; check snapshot names.\n",
                typeof(DatasetNotFoundException),
                ErrorKind.NotFound
            },
            {
                "cannot create 'data/k8s/x': 'used' is readonly\n",
                typeof(ZfsInvalidArgumentException),
                ErrorKind.InvalidInput
            },
            // A user property value over 8 KiB, captured on OpenZFS 2.3.2 and zfs-fuse 0.7 (ZfsCommands/ZfsErrorCases)
            {
                "cannot set property for 'data/k8s/x': property value too long\n",
                typeof(ZfsInvalidArgumentException),
                ErrorKind.InvalidInput
            },
            { "internal error: Argument list too long\n", typeof(ZfsInvalidArgumentException), ErrorKind.InvalidInput },
            // An import with a whole top-level disk gone, OpenZFS 2.3.2 (zfs-fuse: "… is currently unavailable")
            {
                "cannot import 'data': no such pool or dataset\n",
                typeof(ZfsPoolUnavailableException),
                ErrorKind.Unavailable
            },
            // (OpenZFS's "no such pool available" is word for word zfs-fuse's, above.)
            {
                "cannot import 'data': pool was previously in use from another system.\nLast accessed by debian (hostid=5eed0001) at Tue Dec  1 10:00:00 2026\n"
                    + "The pool can be imported, use 'zpool import -f' to import the pool.\n",
                typeof(ZfsPoolInUseElsewhereException),
                ErrorKind.FailedPrecondition
            },
        };

    [Theory]
    [MemberData(nameof(KnownTexts))]
    public void Known_error_text_becomes_its_typed_exception_and_kind(string stderr, Type expected, ErrorKind kind)
    {
        var e = Classify(stderr);

        Assert.IsType(expected, e);
        Assert.Equal(kind, e.Kind);
        Assert.Equal(stderr, e.StandardError);
        Assert.Same(Command, e.Command);
    }

    [Theory]
    [InlineData("DATASET DOES NOT EXIST")]
    [InlineData("Cannot Destroy 'x': Dataset Is Busy")]
    public void Matching_ignores_case(string stderr)
    {
        Assert.NotEqual(ErrorKind.Internal, Classify(stderr).Kind);
    }

    [Theory]
    [InlineData("internal error: Invalid argument\n", 1)]
    [InlineData("zfs: symbol lookup error\n", 127)]
    [InlineData("", 2)]
    public void Unknown_text_is_a_plain_internal_command_failure_that_keeps_argv_exit_code_and_stderr(
        string stderr,
        int exitCode
    )
    {
        var e = Classify(stderr, exitCode);

        Assert.Equal(typeof(CommandFailedException), e.GetType());
        Assert.Equal(ErrorKind.Internal, e.Kind);
        Assert.Equal(Command, e.Command);
        Assert.Equal(["destroy", "data/k8s/pvc-1"], e.Command.Arguments);
        Assert.Equal(exitCode, e.ExitCode);
        Assert.Equal(stderr, e.StandardError);
        Assert.Contains("zfs destroy data/k8s/pvc-1", e.Message);
        Assert.Contains($"exited {exitCode}", e.Message);
    }

    [Fact]
    public void A_pool_that_an_import_does_not_find_is_told_from_a_command_naming_a_pool_that_is_not_imported()
    {
        // "no such pool available" contains "no such pool": the import's text must be checked first.
        Assert.IsType<ZfsPoolNotFoundForImportException>(Classify(ZfsFuseOutput.ImportNoSuchPoolAvailable));
        Assert.IsType<ZfsPoolUnavailableException>(Classify(ZfsFuseOutput.NoSuchPool));
        Assert.IsType<ZfsPoolUnavailableException>(Classify("cannot open 'nosuchpool': no such pool\n"));
    }

    [Fact]
    public void The_usage_text_of_an_import_names_f_but_is_not_a_pool_in_use_elsewhere()
    {
        var e = Classify(ZfsFuseOutput.ImportHasNoN, 2);

        Assert.Equal(typeof(CommandFailedException), e.GetType());
        Assert.Equal(ErrorKind.Internal, e.Kind);
    }

    [Fact]
    public void A_usage_error_is_internal_since_it_is_our_bug()
    {
        var e = Classify("missing property argument\nusage:\n\tget [-rHp] [-d max] ...\n", 2);

        Assert.Equal(ErrorKind.Internal, e.Kind);
        Assert.Equal(2, e.ExitCode);
    }
}
