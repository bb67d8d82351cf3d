using ZfsCsi.Core.Exec;

namespace ZfsCsi.Tests.Exec;

public sealed class CommandLineTests
{
    [Fact]
    public void Two_command_lines_with_the_same_argv_are_equal()
    {
        var a = new CommandLine("zfs", "get", "-H", "data/k8s");
        var b = new CommandLine("zfs", new List<string> { "get", "-H", "data/k8s" });

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Theory]
    [InlineData("zpool", "get", "-H", "data/k8s")]
    [InlineData("zfs", "get", "-H", "data/k8s/x")]
    [InlineData("zfs", "get", "-H")]
    public void A_different_program_or_argument_is_not_equal(string program, params string[] args)
    {
        Assert.NotEqual(new CommandLine("zfs", "get", "-H", "data/k8s"), new CommandLine(program, args));
    }

    [Fact]
    public void The_readable_form_leaves_plain_arguments_bare()
    {
        Assert.Equal(
            "zfs create -o refquota=1048576 -o zfs-csi:name=cHZjLTE data/k8s/pvc-1",
            new CommandLine(
                "zfs",
                "create",
                "-o",
                "refquota=1048576",
                "-o",
                "zfs-csi:name=cHZjLTE",
                "data/k8s/pvc-1"
            ).ToString()
        );
    }

    [Fact]
    public void The_readable_form_quotes_spaces_quotes_and_empty_arguments()
    {
        Assert.Equal("echo 'a b' 'it'\\''s' '' '$(x)'", new CommandLine("echo", "a b", "it's", "", "$(x)").ToString());
    }
}
