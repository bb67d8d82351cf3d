using System.Diagnostics;
using Serilog;
using ZfsCsi.Bootstrap;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Options;

namespace ZfsCsi.Tests.Bootstrap;

/// <summary>The module path on fake kernel tools that record what ran and in what order.</summary>
public sealed class ModuleBootstrapperTests : IDisposable
{
    private readonly FakeKernel _k = new();
    private readonly ILogger _log = new LoggerConfiguration().CreateLogger();

    public void Dispose() => _k.Dispose();

    private async Task<BootstrapStatus> RunAsync(params string[] extra)
    {
        using var b = new Bootstrapper(_k.Options(extra), new CliWrapCommandRunner(_log), _log);
        return await b.CheckAsync(CancellationToken.None);
    }

    /// <summary>The build and load commands, without the read-only checks, cwd-free.</summary>
    private IReadOnlyList<string> Changes =>
        [
            .. _k.Ran.Where(l =>
                !l.StartsWith("uname", StringComparison.Ordinal)
                && !l.StartsWith("modinfo", StringComparison.Ordinal)
                && !l.StartsWith("zfs", StringComparison.Ordinal)
            ),
        ];

    private string Headers(string release, string part) => Path.Combine(_k.ModulesDirectory, release, part);

    [Fact]
    public async Task Nothing_to_do_runs_only_the_three_quick_checks_and_no_build()
    {
        // How long it takes is measured and printed by lab/demo's bootstrap step, never asserted here.
        _k.AllGood();

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal(["uname -r", $"modinfo -k {FakeKernel.Release} -F version zfs", "zfs --version"], _k.Ran);
        Assert.Contains("2.2.2-1", status.Reason, StringComparison.Ordinal);
        Assert.Equal(
            BootstrapState.Ready,
            (await BootstrapStatusFile.ReadAsync(_k.StatusFile, CancellationToken.None))!.State
        );
    }

    [Fact]
    public async Task No_module_for_the_running_kernel_rebuilds_against_its_headers_in_order_then_loads()
    {
        _k.Userland("2.2.2-1");
        File.WriteAllText(Path.Combine(_k.Source, "Makefile"), "old build");

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal(
            [
                "make clean",
                $"configure --with-linux={Headers(FakeKernel.Release, "source")} --with-linux-obj={Headers(FakeKernel.Release, "build")}",
                "make -j2",
                "make install",
                $"depmod -a {FakeKernel.Release}",
                "modprobe zfs",
            ],
            Changes
        );
        Assert.Equal("2.2.2-1", File.ReadAllText(_k.LoadedVersionFile).Trim());
        Assert.Equal("2.2.2-1", status.ModuleVersion);
        Assert.Equal(FakeKernel.Release, status.KernelRelease);
    }

    [Fact]
    public async Task The_git_revision_header_that_make_clean_deletes_is_put_back_so_a_tree_without_git_builds_again()
    {
        _k.Userland("2.2.2-1");
        File.WriteAllText(Path.Combine(_k.Source, "Makefile"), "old build");
        var header = File.ReadAllText(_k.GitRevisionHeader);

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Contains("make clean", Changes);
        Assert.Equal(header, File.ReadAllText(_k.GitRevisionHeader));
    }

    [Fact]
    public async Task An_installed_module_of_another_release_than_the_userland_is_rebuilt()
    {
        _k.Userland("2.2.2-1");
        _k.Installed("2.1.5-1");

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Contains("make install", Changes);
        Assert.Equal("2.2.2-1", _k.InstalledVersion());
        Assert.Equal("2.2.2-1", File.ReadAllText(_k.LoadedVersionFile).Trim());
    }

    [Fact]
    public async Task An_installed_module_that_is_not_loaded_is_loaded_and_checked_as_on_a_normal_boot()
    {
        // The audit's case: on real OpenZFS `zfs version` fails without the module, so the
        // bootstrap must read the userland with `zfs --version` and get to modprobe.
        _k.Userland("2.2.2-1");
        _k.Installed("2.2.2-1");

        var status = await RunAsync("--source", "");

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal(["modprobe zfs"], Changes);
        Assert.DoesNotContain("zfs version", _k.Ran);
        Assert.Equal(2, _k.Ran.Count(l => l == "zfs --version"));
        Assert.Equal("2.2.2-1", File.ReadAllText(_k.LoadedVersionFile).Trim());
        Assert.Equal("2.2.2-1", status.ModuleVersion);
    }

    [Fact]
    public void The_fake_zfs_answers_like_OpenZFS_without_the_module()
    {
        _k.Userland("2.0.1-1");

        var subcommand = _k.Run("zfs", "version");
        var flag = _k.Run("zfs", "--version");

        // cmd/zfs/zfs_main.c: every subcommand needs libzfs_init(), which fails without /sys/module/zfs...
        Assert.Equal(1, subcommand.ExitCode);
        Assert.Contains(FakeKernel.NotLoaded, subcommand.Stderr, StringComparison.Ordinal);
        Assert.Equal("", subcommand.Stdout);
        // ...while -V/--version is answered before it: the userland line, then the kmod failure.
        Assert.Equal(1, flag.ExitCode);
        Assert.Equal("zfs-2.0.1-1\n", flag.Stdout);
        Assert.Contains("zfs_version_kernel() failed", flag.Stderr, StringComparison.Ordinal);
        Assert.Contains(FakeKernel.NotLoaded, _k.Run("zpool", "list", "-H").Stderr, StringComparison.Ordinal);

        _k.Loaded("2.0.1-1");
        Assert.Equal(
            (0, "zfs-2.0.1-1\nzfs-kmod-2.0.1-1\n"),
            (_k.Run("zfs", "--version").ExitCode, _k.Run("zfs", "--version").Stdout)
        );
    }

    [Fact]
    public async Task Tools_that_print_no_userland_without_the_module_are_read_from_the_source_trees_META_and_checked_again_once_loaded()
    {
        // OpenZFS 0.8's zfs_version_print() read the kernel version first and printed nothing without it.
        _k.KernelVersionFirst();
        _k.Userland("2.2.2-1");
        _k.Installed("2.2.2-1");

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal(["modprobe zfs"], Changes);
        Assert.Contains("matching userland 2.2.2-1", status.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tools_whose_release_shows_only_after_loading_and_differs_from_META_are_reported()
    {
        _k.KernelVersionFirst();
        _k.Userland("2.1.5-1");
        _k.Installed("2.2.2-1");

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains(
            "the loaded zfs module is 2.2.2-1 but the userland tools",
            status.Reason,
            StringComparison.Ordinal
        );
        Assert.Contains("are 2.1.5-1", status.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_k.Ran, l => l.StartsWith("make", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_loaded_module_that_differs_from_the_userland_is_reported_and_never_rebuilt_or_unloaded()
    {
        // alice: OpenZFS 2.0.1 built from /root/src/zfs-2.0.1, loaded, /home on the pool; a sidecar
        // image with other tools must not "repair" that by rebuilding the host's module.
        _k.SourceRelease("2.0.1", "1");
        _k.Installed("2.0.1-1");
        _k.Loaded("2.0.1-1");
        _k.ImportedPool("data");
        _k.Userland("2.1.11-1");

        var status = await RunAsync("--pool", "data");

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains("loaded zfs module is 2.0.1-1 but the userland tools", status.Reason, StringComparison.Ordinal);
        Assert.Contains("never rebuilds or unloads a loaded module", status.Reason, StringComparison.Ordinal);
        Assert.Contains("OPENZFS_VERSION=2.0.1", status.Reason, StringComparison.Ordinal);
        Assert.Empty(Changes);
        Assert.Equal("2.0.1-1", _k.InstalledVersion());
        Assert.Equal("2.0.1-1", File.ReadAllText(_k.LoadedVersionFile).Trim());
    }

    [Fact]
    public async Task A_source_tree_of_another_release_than_the_userland_is_never_built()
    {
        _k.SourceRelease("2.0.1", "1");
        _k.Userland("2.1.11-1");

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains("source tree", status.Reason, StringComparison.Ordinal);
        Assert.Contains("is OpenZFS 2.0.1-1", status.Reason, StringComparison.Ordinal);
        Assert.Contains("would not match the userland 2.1.11-1", status.Reason, StringComparison.Ordinal);
        Assert.Empty(Changes);
    }

    [Fact]
    public async Task No_rebuild_says_the_host_must_build_and_builds_nothing_but_still_loads_a_matching_module()
    {
        _k.Userland("2.2.2-1");

        var status = await RunAsync("--no-rebuild");

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains(
            $"no zfs module is installed for kernel {FakeKernel.Release}",
            status.Reason,
            StringComparison.Ordinal
        );
        Assert.Contains("--no-rebuild", status.Reason, StringComparison.Ordinal);
        Assert.Contains("zfs-csi-bootstrap.service", status.Reason, StringComparison.Ordinal);
        Assert.Empty(Changes);

        _k.Installed("2.2.2-1");
        Assert.Equal(BootstrapState.Ready, (await RunAsync("--no-rebuild")).State);
        Assert.Equal(["modprobe zfs"], Changes);
    }

    [Fact]
    public async Task Missing_headers_for_the_running_kernel_say_what_to_install_and_build_nothing()
    {
        _k.Userland("2.2.2-1");
        _k.RemoveHeaders(FakeKernel.Release);
        _k.Headers(FakeKernel.NewerRelease);

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains(
            $"install linux-headers-{FakeKernel.Release} or reboot into the new kernel",
            status.Reason,
            StringComparison.Ordinal
        );
        Assert.Contains(FakeKernel.NewerRelease, status.Reason, StringComparison.Ordinal);
        Assert.Empty(Changes);
        Assert.False(File.Exists(_k.LoadedVersionFile));
    }

    [Fact]
    public async Task Newer_headers_than_the_running_kernel_are_never_used()
    {
        _k.Userland("2.2.2-1");
        _k.Headers(FakeKernel.NewerRelease);

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Ready, status.State);
        var configure = Assert.Single(_k.Ran, l => l.StartsWith("configure", StringComparison.Ordinal));
        Assert.Contains(
            $"--with-linux-obj={Headers(FakeKernel.Release, "build")}",
            configure,
            StringComparison.Ordinal
        );
        Assert.DoesNotContain(FakeKernel.NewerRelease, string.Join('\n', _k.Ran), StringComparison.Ordinal);
        Assert.Null(_k.InstalledVersion(FakeKernel.NewerRelease));
    }

    [Fact]
    public async Task A_first_install_failing_half_way_is_retried_never_loaded_and_leaves_no_half_installed_module()
    {
        _k.Userland("2.2.2-1");
        _k.Fail("make-install");

        var status = await RunAsync("--attempts", "3");

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains("failed 3 time(s)", status.Reason, StringComparison.Ordinal);
        Assert.Contains("make install", status.Reason, StringComparison.Ordinal);
        Assert.Equal(3, _k.Ran.Count(l => l == "make install"));
        Assert.DoesNotContain(_k.Ran, l => l.StartsWith("make uninstall", StringComparison.Ordinal));
        Assert.DoesNotContain(_k.Ran, l => l.StartsWith("modprobe", StringComparison.Ordinal));
        Assert.False(File.Exists(_k.LoadedVersionFile));
        Assert.Null(_k.InstalledVersion());
        Assert.Empty(Directory.EnumerateFileSystemEntries(_k.Extra()));
        Assert.False(ZfsCsi.Bootstrap.Module.ModuleBackup.Exists(_k.ModulesDirectory, FakeKernel.Release));
    }

    [Fact]
    public async Task A_failed_install_puts_the_previous_module_back_instead_of_running_make_uninstall()
    {
        // The module that worked before (not loaded, of another release than the new tools) must
        // survive a failed rebuild: make uninstall would delete it and the tools with it.
        _k.Installed("2.1.5-1");
        File.WriteAllText(Path.Combine(_k.Extra(), "nvidia.ko"), "not ours");
        _k.Userland("2.2.2-1");
        _k.Fail("make-install");

        var status = await RunAsync("--attempts", "2");

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.DoesNotContain(_k.Ran, l => l.StartsWith("make uninstall", StringComparison.Ordinal));
        Assert.Equal("2.1.5-1", _k.InstalledVersion());
        Assert.Equal("2.1.5-1", File.ReadAllText(Path.Combine(_k.Extra(), "spl", "spl.ko")).Trim());
        Assert.Equal("not ours", File.ReadAllText(Path.Combine(_k.Extra(), "nvidia.ko")));
        // depmod after every put-back, so modules.dep lists what is there again.
        var installs = _k.Ran.Select((l, i) => (l, i)).Where(x => x.l == "make install").Select(x => x.i).ToList();
        Assert.Equal(2, installs.Count);
        Assert.All(installs, i => Assert.Equal($"depmod -a {FakeKernel.Release}", _k.Ran[i + 1]));
        Assert.False(ZfsCsi.Bootstrap.Module.ModuleBackup.Exists(_k.ModulesDirectory, FakeKernel.Release));
        Assert.DoesNotContain(_k.Ran, l => l.StartsWith("modprobe", StringComparison.Ordinal));
        Assert.Equal("2.2.2-1", File.ReadAllText(Path.Combine(_k.State, "userland")).Trim());
    }

    [Fact]
    public async Task An_install_cut_short_by_a_kill_is_rolled_back_at_the_next_start_before_anything_loads()
    {
        _k.Userland("2.1.5-1");
        _k.SourceRelease("2.1.5", "1");
        _k.Installed("2.1.5-1");
        // What a bootstrap killed in the middle of make install leaves: its copy, and half-written modules.
        ZfsCsi.Bootstrap.Module.ModuleBackup.Take(_k.ModulesDirectory, FakeKernel.Release);
        File.WriteAllText(Path.Combine(_k.Extra(), "zfs", "zfs.ko"), "partial");

        var checkOnly = await RunAsync("--no-rebuild");
        Assert.Equal(BootstrapState.Failed, checkOnly.State);
        Assert.Contains("was interrupted", checkOnly.Reason, StringComparison.Ordinal);
        Assert.Empty(Changes);

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal([$"depmod -a {FakeKernel.Release}", "modprobe zfs"], Changes);
        Assert.Equal("2.1.5-1", File.ReadAllText(_k.LoadedVersionFile).Trim());
        Assert.False(ZfsCsi.Bootstrap.Module.ModuleBackup.Exists(_k.ModulesDirectory, FakeKernel.Release));
    }

    [Fact]
    public async Task A_build_that_fails_once_succeeds_on_the_retry()
    {
        _k.Userland("2.2.2-1");
        _k.FailOnce("make-j");

        var status = await RunAsync();

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal(2, _k.Ran.Count(l => l == "make -j2"));
        Assert.Equal(1, _k.Ran.Count(l => l == "modprobe zfs"));
    }

    [Fact]
    public async Task Two_bootstraps_at_once_build_only_once()
    {
        _k.Userland("2.2.2-1");
        _k.Slow("make-j", 1.5);

        var statuses = await Task.WhenAll(RunAsync(), RunAsync());

        Assert.All(statuses, s => Assert.Equal(BootstrapState.Ready, s.State));
        Assert.Equal(1, _k.Ran.Count(l => l == "make -j2"));
        Assert.Equal(1, _k.Ran.Count(l => l == "make install"));
    }

    [Fact]
    public async Task Module_none_skips_the_module_path_and_says_so()
    {
        _k.ZfsFuse();
        _k.ImportedPool("tank");
        var status = await RunAsync("--module", "none", "--pool", "tank");

        Assert.Equal(BootstrapState.Ready, status.State);
        Assert.Equal(["zpool list -H -o name,health", "zpool status tank"], _k.Ran);
        Assert.Equal("ONLINE", status.PoolHealth);
        Assert.Throws<OptionsException>(() => _k.Options("--module", "none"));
    }

    [Fact]
    public async Task Without_tools_that_name_their_release_or_a_source_tree_nothing_loads_and_the_reason_points_at_module_none()
    {
        // zfs-fuse's zfs answers --version with its usage (exit 2): no zfs-X.Y.Z line.
        _k.Installed("2.2.2-1");
        _k.KernelVersionFirst();
        _k.Userland("2.2.2-1");

        var status = await RunAsync("--source", "");

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains("cannot read the ZFS userland version", status.Reason, StringComparison.Ordinal);
        Assert.Contains("--module none", status.Reason, StringComparison.Ordinal);
        Assert.Contains("zfs_version_kernel() failed", status.Reason, StringComparison.Ordinal);
        Assert.Empty(Changes);
    }

    [Fact]
    public async Task A_needed_rebuild_without_a_source_tree_says_which_flag_is_missing()
    {
        _k.Userland("2.2.2-1");

        var status = await RunAsync("--source", "");

        Assert.Equal(BootstrapState.Failed, status.State);
        Assert.Contains("--source", status.Reason, StringComparison.Ordinal);
        Assert.Empty(Changes);
    }

    [Fact]
    public async Task A_long_build_keeps_the_heartbeat_fresh_so_the_driver_stays_alive_but_not_ready()
    {
        _k.Userland("2.2.2-1");
        _k.Slow("make-j", 2.5);
        var readiness = new BootstrapReadiness(_k.StatusFile, TimeSpan.FromSeconds(1));
        using var b = new Bootstrapper(_k.Options("--heartbeat", "0.2"), new CliWrapCommandRunner(_log), _log);

        var check = b.CheckAsync(CancellationToken.None);
        var seen = new List<BootstrapStatus>();
        while (!check.IsCompleted)
        {
            await Task.Delay(300);
            if (
                await BootstrapStatusFile.ReadAsync(_k.StatusFile, CancellationToken.None)
                    is { State: BootstrapState.Rebuilding } s
                && s.Step == "make -j2"
            )
            {
                seen.Add(s);
                Assert.Equal("make -j2", s.RunningStep);
                Assert.Equal(30, s.StepLimitSeconds);
                Assert.NotNull(s.StepStarted);
                Assert.True((await readiness.CheckLivenessAsync(CancellationToken.None)).Ready);
                var ready = await readiness.CheckAsync(CancellationToken.None);
                Assert.False(ready.Ready);
                Assert.Contains("rebuilding at step 'make -j2'", ready.Reason, StringComparison.Ordinal);
            }
        }

        Assert.Equal(BootstrapState.Ready, (await check).State);
        Assert.True(seen.Count >= 3, $"saw the build step {seen.Count} times");
        Assert.True(seen[^1].Heartbeat > seen[0].Heartbeat, "the heartbeat did not move during the build");
        Assert.True(seen[^1].ElapsedSeconds > seen[0].ElapsedSeconds);
    }

    [Fact]
    public async Task A_routine_recheck_keeps_the_ready_verdict_in_the_status_file_while_it_runs()
    {
        _k.AllGood();
        using var b = new Bootstrapper(_k.Options(), new CliWrapCommandRunner(_log), _log);
        Assert.Equal(BootstrapState.Ready, (await b.CheckAsync(CancellationToken.None)).State);

        var recheck = b.CheckAsync(CancellationToken.None);
        while (!recheck.IsCompleted)
        {
            Assert.Equal(
                BootstrapState.Ready,
                (await BootstrapStatusFile.ReadAsync(_k.StatusFile, CancellationToken.None))!.State
            );
            await Task.Delay(1);
        }
        Assert.Equal(BootstrapState.Ready, (await recheck).State);
    }
}
