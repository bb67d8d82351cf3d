using System.Text.RegularExpressions;
using ZfsCsi.Bootstrap;
using ZfsCsi.Core.Options;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Tests.Options;

/// <summary>The driver's and the bootstrap's flag tables: usage, defaults, message style, and the README's tables of them.</summary>
public sealed partial class ProgramFlagsTests
{
    private static readonly string[] Controller = ["--mode", "controller"];

    private static string DriverRefused(params string[] args) =>
        Assert.Throws<OptionsException>(() => DriverOptions.Parse([.. Controller, .. args])).Message;

    private static string BootstrapRefused(params string[] args) =>
        Assert.Throws<OptionsException>(() => BootstrapOptions.Parse(["once", "--pool", "data", .. args])).Message;

    [Theory]
    [InlineData("--zfs-timeout", "0", "--zfs-timeout: '0' is below the minimum 0.001s")]
    [InlineData("--zfs-timeout", "86401", "--zfs-timeout: '86401' is above the maximum 86400s")]
    [InlineData("--zfs-timeout", "Infinity", "--zfs-timeout: 'Infinity' is not a number of seconds")]
    [InlineData("--mount-lock-timeout", "0", "--mount-lock-timeout: '0' is not more than 0s")]
    [InlineData("--creating-grace", "599", "--creating-grace: '599' is below the minimum 600s")]
    [InlineData("--creating-grace", "31536001", "--creating-grace: '31536001' is above the maximum 31536000s")]
    [InlineData("--sweep-interval", "-1", "--sweep-interval: '-1' is below the minimum 0s")]
    [InlineData("--sweep-interval", "86401", "--sweep-interval: '86401' is above the maximum 86400s")]
    [InlineData("--bootstrap-stale-after", "0", "--bootstrap-stale-after: '0' is not more than 0s")]
    [InlineData(
        "--bootstrap-stale-after",
        "1e300",
        "--bootstrap-stale-after: '1e300' is above the maximum 922337203684s"
    )]
    [InlineData("--health-port", "70000", "--health-port: '70000' is above the maximum 65535")]
    [InlineData("--health-port", "-1", "--health-port: '-1' is not a whole number")]
    [InlineData("--metrics-interval", "0", "--metrics-interval: '0' is below the minimum 1s")]
    [InlineData("--mode", "all", "--mode: 'all' is not controller, node or both")]
    [InlineData("--log-format", "JSON", "--log-format: 'JSON' is not text or json")]
    [InlineData("--fs-timeout", "3600", "--fs-timeout: '3600' is not less than 3600s")]
    [InlineData("--sshfs-check-interval", "0", "--sshfs-check-interval: '0' is not more than 0s")]
    [InlineData("--sshfs-port", "70000", "--sshfs-port: '70000' is above the maximum 65535")]
    [InlineData("--sshfs-connect-timeout", "2.5", "--sshfs-connect-timeout: '2.5' is not a whole number")]
    [InlineData("--sshfs-alive-interval", "601", "--sshfs-alive-interval: '601' is above the maximum 600s")]
    [InlineData("--sshfs-alive-count", "0", "--sshfs-alive-count: '0' is below the minimum 1")]
    [InlineData("--bind-check-interval", "0.05", "--bind-check-interval: '0.05' is below the minimum 0.1s")]
    [InlineData("--bind-check-interval", "61", "--bind-check-interval: '61' is above the maximum 60s")]
    public void The_driver_refuses_a_bad_value_naming_the_flag_the_value_and_the_bound(
        string flag,
        string value,
        string message
    )
    {
        Assert.Equal(message, DriverRefused(flag, value));
        Assert.Equal(message, DriverRefused($"{flag}={value}"));
    }

    [Theory]
    [InlineData("--jobs", "0", "--jobs: '0' is below the minimum 1")]
    [InlineData("--attempts", "x", "--attempts: 'x' is not a whole number")]
    [InlineData("--retry-delay", "-1", "--retry-delay: '-1' is below the minimum 0s")]
    [InlineData("--build-timeout", "0", "--build-timeout: '0' is not more than 0s")]
    [InlineData("--command-timeout", "1e7", "--command-timeout: '1e7' is not less than 10000000s")]
    [InlineData("--import-timeout", "soon", "--import-timeout: 'soon' is not a number of seconds")]
    [InlineData("--mount-lock-timeout", "0", "--mount-lock-timeout: '0' is not more than 0s")]
    [InlineData("--interval", "0", "--interval: '0' is not more than 0s")]
    [InlineData("--heartbeat", "NaN", "--heartbeat: 'NaN' is not a number of seconds")]
    [InlineData("--stale-after", "-5", "--stale-after: '-5' is not more than 0s")]
    [InlineData("--module", "dkms", "--module: 'dkms' is not kernel, none or fuse")]
    [InlineData("--import-mount", "data", "--import-mount: 'data' is not none, all or an absolute directory")]
    [InlineData("--log-format", "logfmt", "--log-format: 'logfmt' is not text or json")]
    public void The_bootstrap_refuses_a_bad_value_in_the_same_words(string flag, string value, string message)
    {
        Assert.Equal(message, BootstrapRefused(flag, value));
    }

    [Theory]
    [InlineData("--no-import=true")]
    [InlineData("--allow-degraded=1")]
    [InlineData("--no-rebuild=")]
    public void The_bootstraps_switches_take_no_value(string arg)
    {
        Assert.EndsWith("takes no value", BootstrapRefused(arg));
    }

    [Fact]
    public void Every_bootstrap_flag_lands_in_its_option()
    {
        var o = BootstrapOptions.Parse([
            "watch",
            "--pool=tank",
            "--import-dir=/a",
            "--import-dir",
            "/b",
            "--no-import",
            "--import-mount=/data",
            "--allow-degraded",
            "--module=kernel",
            "--source=/src/zfs",
            "--no-rebuild",
            "--configure-arg=--enable-debug",
            "--configure-arg",
            "--with-x",
            "--jobs=7",
            "--attempts=2",
            "--retry-delay=0",
            "--build-timeout=100",
            "--command-timeout=2",
            "--import-timeout=60",
            "--mount-lock-timeout=9",
            "--build-lock-file=/b.lock",
            "--mount-lock-file=",
            "--status-file=/s.json",
            "--interval=3",
            "--heartbeat=1.5",
            "--stale-after=40",
            "--modules-dir=/m",
            "--sys-module-dir=/sm",
            "--uname=/u",
            "--modinfo=/mi",
            "--modprobe=/mp",
            "--depmod=/dm",
            "--make=/mk",
            "--zfs=/z",
            "--zpool=/zp",
            "--log-format=json",
        ]);

        Assert.Equal(
            (BootstrapCommand.Watch, "tank", false, true, true, ModuleMode.Kernel, "/src/zfs"),
            (o.Command, o.Pool, o.Import, o.AllowDegraded, o.NoRebuild, o.Module, o.SourceTree)
        );
        Assert.Equal(["/a", "/b"], o.ImportDirectories);
        Assert.Equal(ModuleMode.None, BootstrapOptions.Parse(["once", "--pool=data", "--module=fuse"]).Module);
        Assert.Equal(["--enable-debug", "--with-x"], o.ConfigureArguments);
        Assert.Equal((ImportMount.Under, "/data"), (o.ImportMount, o.MountUnder));
        Assert.Equal((7, 2, TimeSpan.Zero), (o.Jobs, o.BuildAttempts, o.RetryDelay));
        Assert.Equal(
            [100, 2, 60, 9, 3, 1.5, 40],
            new[]
            {
                o.BuildTimeout,
                o.CommandTimeout,
                o.ImportTimeout,
                o.MountLockTimeout,
                o.Interval,
                o.HeartbeatInterval,
                o.StaleAfter,
            }.Select(t => t.TotalSeconds)
        );
        Assert.Equal(
            ["/b.lock", "", "/s.json", "/m", "/sm", "/u", "/mi", "/mp", "/dm", "/mk", "/z", "/zp", "json"],
            [
                o.BuildLockFile,
                o.MountLockFile,
                o.StatusFile,
                o.ModulesDirectory,
                o.SysModuleDirectory,
                o.Uname,
                o.Modinfo,
                o.Modprobe,
                o.Depmod,
                o.Make,
                o.ZfsCommand,
                o.ZpoolCommand,
                o.LogFormat,
            ]
        );
    }

    public static TheoryData<string> DriverFlags() => [.. DriverOptions.Table.Flags.Select(f => f.Name)];

    public static TheoryData<string> BootstrapFlags() => [.. BootstrapOptions.Table.Flags.Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(DriverFlags))]
    public void Each_driver_flag_given_its_own_default_changes_nothing(string name)
    {
        var flag = DriverOptions.Table.Find(name)!;
        var o = new DriverOptions();
        var before = flag.Default(o);
        if (before is null || flag.DefaultInWords)
        {
            return;
        }
        flag.Apply(o, before);
        Assert.Equal(before, flag.Default(o));
    }

    [Theory]
    [MemberData(nameof(BootstrapFlags))]
    public void Each_bootstrap_flag_given_its_own_default_changes_nothing(string name)
    {
        var flag = BootstrapOptions.Table.Find(name)!;
        var o = new BootstrapOptions();
        var before = flag.Default(o);
        if (before is null || flag.DefaultInWords)
        {
            return;
        }
        flag.Apply(o, before);
        Assert.Equal(before, flag.Default(o));
    }

    [Fact]
    public void Both_usages_name_every_flag_and_fit_100_columns()
    {
        foreach (
            var (usage, flags) in new[]
            {
                (DriverOptions.Usage, DriverOptions.Table.Flags.Select(f => f.Name).ToList()),
                (BootstrapOptions.Usage, BootstrapOptions.Table.Flags.Select(f => f.Name).ToList()),
            }
        )
        {
            foreach (var flag in flags)
            {
                Assert.Matches($@"(?m)^  {Regex.Escape(flag)}[ ,]", usage);
            }
            Assert.All(usage.Split('\n').Skip(1), line => Assert.True(line.Length <= 100, line));
        }
    }

    [Fact]
    public void The_driver_usage_says_the_bounds_the_parser_holds()
    {
        Assert.Contains("0.001s to 86400s; default 30", DriverOptions.Usage);
        Assert.Contains("0.1s to 60s; default 2", DriverOptions.Usage.Replace("\n                         ", " "));
        Assert.Contains("--nodeid, --node-id ID", DriverOptions.Usage);
        Assert.Contains("node plugin (--mode node|both):", DriverOptions.Usage);
    }

    [Fact]
    public void The_bootstrap_usage_keeps_its_commands_and_marks_repeatable_flags()
    {
        Assert.StartsWith("zfs-csi-bootstrap: ", BootstrapOptions.Usage);
        Assert.Contains("usage: zfs-csi-bootstrap once|watch|alive [flags]", BootstrapOptions.Usage);
        Assert.Contains("  --import-dir DIR (repeatable)", BootstrapOptions.Usage);
        Assert.Contains("  --configure-arg ARG (repeatable)", BootstrapOptions.Usage);
        Assert.Contains("default the number of cores", BootstrapOptions.Usage);
    }

    [Fact]
    public async Task Help_exits_0_and_a_bad_command_line_exits_2_without_options()
    {
        Assert.Equal((null, 0), await ProgramArgs.ParseAsync("t", ["--help"], "usage", DriverOptions.Parse));
        Assert.Equal(
            (null, 2),
            await ProgramArgs.ParseAsync(
                "t",
                ["--mode", "controller", "--zfs-timeout", "0"],
                "usage",
                DriverOptions.Parse
            )
        );
        var (options, code) = await ProgramArgs.ParseAsync(
            "t",
            ["once", "--pool", "data"],
            "usage",
            BootstrapOptions.Parse
        );
        Assert.Equal(("data", 0), (options!.Pool, code));
    }

    [Fact]
    public async Task Version_exits_0_without_options_and_names_the_release()
    {
        Assert.Equal((null, 0), await ProgramArgs.ParseAsync("t", ["--version"], "usage", DriverOptions.Parse));
        Assert.Matches(@"^\d+\.\d+\.\d+", ProgramArgs.Version);
    }

    [Theory]
    [InlineData("## Running the driver", "driver")]
    [InlineData("## Bootstrap", "bootstrap")]
    public void The_readme_flag_table_has_every_flag_with_its_default(string heading, string program)
    {
        var (names, defaults) = ReadmeTable(heading);
        var table =
            program == "driver"
                ? (IEnumerable<(string, string?, bool)>)Rows(DriverOptions.Table, new DriverOptions())
                : Rows(BootstrapOptions.Table, new BootstrapOptions());
        var rows = table.ToDictionary(r => r.Item1);

        Assert.Equal(rows.Keys.Order(), names.Order());
        foreach (var (name, readme) in names.Zip(defaults))
        {
            var (_, shown, inWords) = rows[name];
            if (readme.StartsWith('`'))
            {
                Assert.True(
                    !inWords && readme[1..readme.IndexOf('`', 1)] == shown,
                    $"{name}: README {readme}, usage {shown}"
                );
            }
            else
            {
                Assert.True(shown is null || (inWords && shown == readme), $"{name}: README '{readme}', usage {shown}");
            }
        }
    }

    private static IEnumerable<(string, string?, bool)> Rows<T>(FlagTable<T> table, T fresh) =>
        table.Flags.Select(f => (f.Name, f.Default(fresh), f.DefaultInWords));

    /// <summary>The flag names of a README section's table (first column) and, for each, its default (second column, split at ", " when a row names several).</summary>
    private static (List<string> Names, List<string> Defaults) ReadmeTable(string heading)
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var start = readme.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, heading);
        var end = readme.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        var names = new List<string>();
        var defaults = new List<string>();
        foreach (var line in readme[start..end].Split('\n').Where(l => l.StartsWith("| `--", StringComparison.Ordinal)))
        {
            var cells = line.Split('|');
            var flags = FlagName().Matches(cells[1]).Select(m => m.Groups[1].Value).ToList();
            var values = flags.Count == 1 ? [cells[2].Trim()] : cells[2].Split(", ").Select(v => v.Trim()).ToList();
            Assert.True(
                flags.Count == values.Count,
                $"README row {line}: {flags.Count} flags, {values.Count} defaults"
            );
            names.AddRange(flags);
            defaults.AddRange(values);
        }
        return (names, defaults);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ZfsCsi.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("no ZfsCsi.sln above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("`(--[a-z0-9-]+)`")]
    private static partial Regex FlagName();
}
