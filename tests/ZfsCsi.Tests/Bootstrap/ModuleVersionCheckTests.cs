using Serilog;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Health;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.Tests.Bootstrap;

/// <summary>The driver's readiness check of its own zfs tools against the loaded module, on the fake OpenZFS tools.</summary>
public sealed class ModuleVersionCheckTests : IDisposable
{
    private readonly FakeKernel _k = new();

    public void Dispose() => _k.Dispose();

    private ModuleVersionCheck Check =>
        new(
            new CliWrapCommandRunner(new LoggerConfiguration().CreateLogger()),
            Path.Combine(_k.Bin, "zfs"),
            TimeSpan.FromSeconds(10),
            _k.SysModule
        );

    [Fact]
    public async Task Tools_of_another_release_than_the_loaded_module_make_the_driver_not_ready_with_the_release_to_build()
    {
        _k.Userland("2.1.11-1");
        _k.Loaded("2.0.1-1");

        var r = await Check.CheckAsync(CancellationToken.None);

        Assert.NotNull(r);
        Assert.False(r.Ready);
        Assert.Contains(
            "are OpenZFS 2.1.11-1 but the loaded zfs module is 2.0.1-1",
            r.Reason,
            StringComparison.Ordinal
        );
        Assert.Contains("OPENZFS_VERSION=2.0.1", r.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Matching_tools_pass_and_are_asked_only_once()
    {
        _k.AllGood();
        var check = Check;

        Assert.Null(await check.CheckAsync(CancellationToken.None));
        Assert.Null(await check.CheckAsync(CancellationToken.None));

        Assert.Equal(["zfs --version"], _k.Ran);
    }

    [Fact]
    public async Task Without_a_loaded_module_nothing_is_run_and_nothing_is_reported()
    {
        // zfs-fuse, or OpenZFS before the bootstrap loaded the module: the pool check says the rest.
        _k.Userland("2.2.2-1");

        Assert.Null(await Check.CheckAsync(CancellationToken.None));
        Assert.Empty(_k.Ran);
    }
}

/// <summary>The driver's container hands StorageHealth what the module check needs (it is optional for hand-built instances).</summary>
public sealed class ModuleVersionCheckWiringTests
{
    [Fact]
    public async Task The_controllers_storage_health_comes_with_the_module_check()
    {
        var options = ZfsCsi.Driver.Options.DriverOptions.Parse([
            "--mode",
            "controller",
            "--endpoint",
            $"unix:///tmp/zfs-csi-wiring-{Guid.NewGuid():N}.sock",
        ]);
        await using var app = ZfsCsi.Driver.Hosting.DriverHost.Build(options, new LoggerConfiguration().CreateLogger());

        var health = app.Services.GetService(typeof(ZfsCsi.Core.Health.StorageHealth));

        var module = typeof(ZfsCsi.Core.Health.StorageHealth)
            .GetField("_module", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(health);
        Assert.IsType<ModuleVersionCheck>(module);
    }
}
