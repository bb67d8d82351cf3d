using Csi.V1;
using Grpc.Core;
using ZfsCsi.Conformance.Infrastructure;

namespace ZfsCsi.Conformance.Harness;

/// <summary>
/// csi-sanity/run, the harness that runs the real csi-sanity, cannot run it here (no csi-sanity
/// binary or Go toolchain on this machine), so its whole set-up is run instead: pool, driver,
/// emulated node, parameter files, the exact csi-sanity command, and the clean-up. A harness that
/// has rotted fails here rather than on the first machine that has csi-sanity. The parameter files
/// it writes are then sent to the suite's own driver as csi-sanity would send them, so a file whose
/// keys the driver refuses fails here too (csi-sanity would fail or skip its tests on it).
/// </summary>
public sealed class RunScriptTests(ConformanceFixture fx) : ConformanceTest(fx)
{
    [Fact]
    public async Task The_harness_sets_everything_up_prints_the_csi_sanity_command_and_leaves_nothing()
    {
        var result = await Shell.RunAsync(
            Path.Combine(RepoLayout.Root, "csi-sanity", "run"),
            ["--setup-only"],
            TimeSpan.FromMinutes(5)
        );
        var output = result.StandardOutput + result.StandardError;

        Assert.True(result.ExitCode == 0, $"csi-sanity/run --setup-only exited {result.ExitCode}:\n{output}");
        // Both ways, split first: the controller and the node plugin as separate processes (the node
        // on an emulated node), then one --mode both process, whose one socket serves csi-sanity's
        // GroupController tests (they ask the node endpoint for the plugin's capabilities).
        var commands = output.Split('\n').Where(l => l.Contains("would run (", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, commands.Count);
        Assert.Contains("would run (split): nsenter -t ", commands[0], StringComparison.Ordinal);
        Assert.Contains("would run (single): csi-sanity ", commands[1], StringComparison.Ordinal);
        var (splitNode, splitController) = Endpoints(commands[0]);
        var (singleNode, singleController) = Endpoints(commands[1]);
        Assert.NotEqual(splitNode, splitController);
        Assert.Equal(singleNode, singleController);
        foreach (var command in commands)
        foreach (
            var flag in new[]
            {
                "--csi.endpoint unix://",
                "--csi.controllerendpoint unix://",
                "--csi.mountdir ",
                "--csi.stagingdir ",
                "--csi.testvolumeparameters ",
                "--csi.testvolumemutableparameters ",
                "--csi.testsnapshotparameters ",
                "--csi.testvolumeexpandsize ",
            }
        )
        {
            Assert.Contains(flag, command, StringComparison.Ordinal);
        }
        var pools = await Shell.RunAsync("zpool", ["list", "-H", "-o", "name"]);
        Assert.DoesNotContain(pools.StandardOutput.Split('\n'), p =>
            p.StartsWith("zcsanrun", StringComparison.Ordinal)
        );
        Assert.Empty(Directory.Exists("/run/zfs-csi-lab") ? Directory.GetDirectories("/run/zfs-csi-lab", "sn*") : []);

        await The_parameter_files_are_ones_the_driver_takes_as_csi_sanity_sends_them(ParameterFiles(output));
    }

    private static (string Node, string Controller) Endpoints(string command)
    {
        string After(string flag) =>
            command[(command.IndexOf(flag, StringComparison.Ordinal) + flag.Length)..].Split(' ')[0];
        return (After("--csi.endpoint "), After("--csi.controllerendpoint "));
    }

    /// <summary>
    /// What csi-sanity does with the files (kubernetes-csi/csi-test pkg/sanity): every volume gets
    /// the StorageClass parameters; "should create volume with a volume attribute class" adds the
    /// mutable parameters to a CreateVolume, "should modify a volume created with(out) a volume
    /// attribute class" sends them to ControllerModifyVolume, and XXX_FakeKey must be INVALID_ARGUMENT.
    /// </summary>
    private async Task The_parameter_files_are_ones_the_driver_takes_as_csi_sanity_sends_them(
        IReadOnlyDictionary<string, Dictionary<string, string>> files
    )
    {
        var parameters = files["storageclass.yaml"];
        var mutable = files["volumeattributesclass.yaml"];
        Assert.NotEmpty(mutable);

        var plain = await Volumes.CreateAsync(Requests.Create(Requests.UniqueName("harness"), parameters: parameters));
        await Fx.Controller.ControllerModifyVolumeAsync(
            new ControllerModifyVolumeRequest { VolumeId = plain.VolumeId, MutableParameters = { mutable } }
        );

        var request = Requests.Create(Requests.UniqueName("harness-vac"), parameters: parameters);
        request.MutableParameters.Add(mutable);
        var withClass = await Volumes.CreateAsync(request);
        await Fx.Controller.ControllerModifyVolumeAsync(
            new ControllerModifyVolumeRequest { VolumeId = withClass.VolumeId, MutableParameters = { mutable } }
        );
        await Rpc.FailsWith(
            StatusCode.InvalidArgument,
            Fx.Controller.ControllerModifyVolumeAsync(
                new ControllerModifyVolumeRequest
                {
                    VolumeId = withClass.VolumeId,
                    MutableParameters = { ["XXX_FakeKey"] = "XXX_FakeValue" },
                }
            )
        );
        // "should fail if volume does not exist" sends the file's parameters to an id of nothing.
        await Rpc.FailsWith(
            StatusCode.NotFound,
            Fx.Controller.ControllerModifyVolumeAsync(
                new ControllerModifyVolumeRequest
                {
                    VolumeId = "non-existing-volume-id",
                    MutableParameters = { mutable },
                }
            )
        );
    }

    /// <summary>
    /// The files --setup-only prints: a "    NAME.yaml:" line, then its lines indented by six. Each is
    /// a flat YAML map of strings, as the harness writes them: <c>key: value</c>, either side
    /// optionally double-quoted; comments and <c>{}</c> (an empty map) are skipped.
    /// </summary>
    private static Dictionary<string, Dictionary<string, string>> ParameterFiles(string output)
    {
        var files = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        Dictionary<string, string>? current = null;
        foreach (var line in output.Split('\n'))
        {
            if (
                line.StartsWith("    ", StringComparison.Ordinal)
                && !line.StartsWith("      ", StringComparison.Ordinal)
            )
            {
                var header = line.Trim();
                current = header.EndsWith(".yaml:", StringComparison.Ordinal) ? [] : null;
                if (current is not null)
                {
                    files[header.TrimEnd(':')] = current;
                }
                continue;
            }
            var text = line.Trim();
            if (current is null || !line.StartsWith("      ", StringComparison.Ordinal))
            {
                current = null;
                continue;
            }
            if (text.Length == 0 || text.StartsWith('#') || text == "{}")
            {
                continue;
            }
            // The key may itself hold ':' (property.com.sun:auto-snapshot) when quoted: split at ": ".
            var colon = text.IndexOf(": ", StringComparison.Ordinal);
            Assert.True(colon > 0, $"not a 'key: value' line in a parameter file: {text}");
            current[Unquote(text[..colon])] = Unquote(text[(colon + 2)..]);
        }
        foreach (var name in new[] { "storageclass.yaml", "volumeattributesclass.yaml", "snapshotclass.yaml" })
        {
            Assert.True(files.ContainsKey(name), $"csi-sanity/run --setup-only printed no {name}:\n{output}");
        }
        return files;
    }

    private static string Unquote(string s) => s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1] : s;
}
