using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Metrics;

namespace ZfsCsi.Tests.Metrics;

public sealed class CommandLabelsTests
{
    [Theory]
    [InlineData(
        "zfs",
        new[] { "get", "-H", "-p", "-o", "name,property,value,source", "refquota", "data/k8s/pvc-1" },
        "zfs",
        "get"
    )]
    [InlineData("/usr/sbin/zpool", new[] { "import", "-d", "/dev/disk/by-id", "data" }, "zpool", "import")]
    [InlineData("zfs", new[] { "destroy", "-r", "data/k8s/pvc-1" }, "zfs", "destroy")]
    public void A_zfs_or_zpool_command_is_labelled_by_program_and_subcommand_never_by_a_dataset(
        string program,
        string[] argv,
        string expectedProgram,
        string expectedSubcommand
    )
    {
        Assert.Equal((expectedProgram, expectedSubcommand), CommandLabels.Of(new CommandLine(program, argv)));
    }

    [Fact]
    public void A_program_without_subcommands_is_labelled_by_its_file_name_alone()
    {
        var sshfs = new CommandLine("/usr/bin/sshfs", "zfs-csi@storage:/", "/data", "-o", "reconnect");

        Assert.Equal(("sshfs", ""), CommandLabels.Of(sshfs));
    }

    [Theory]
    [InlineData("--version")]
    [InlineData("data/k8s")]
    [InlineData("Get")]
    public void A_first_argument_that_is_not_a_plain_word_is_never_a_label(string first)
    {
        Assert.Equal(("zfs", ""), CommandLabels.Of(new CommandLine("zfs", first)));
    }
}
