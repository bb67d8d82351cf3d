using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Bootstrap;
using ZfsCsi.IntegrationTests.Bootstrap;
using ZfsCsi.IntegrationTests.Controller;
using ZfsCsi.IntegrationTests.Infrastructure;
using ZfsCsi.LabHosts;

namespace ZfsCsi.IntegrationTests.OpenZfs;

/// <summary>
/// Native encryption per StorageClass on the real OpenZFS storage host (README, "Encryption"): the
/// key from CreateVolume's secrets into a root-only key file, never a property; clones and restores
/// in their origin's encryption root; refusals that make nothing; and, after a reboot, the
/// bootstrap loading the keys before it reports ready. Each test has its own parent dataset and key
/// directory in the VM, removed at the end.
/// </summary>
[Collection(StorageHostVmCollection.Name)]
[Trait("Backend", "openzfs")]
public sealed class EncryptionOnOpenZfsTests(StorageHostVmFixture vm) : IAsyncLifetime
{
    private const string Passphrase = "correct horse battery staple";
    private readonly string _parent = $"data/{Requests.Unique("enc")}";
    private DriverProcess? _driver;
    private CsiClient? _csi;

    private string KeyDirectory => $"/etc/zfs-csi/it-{_parent["data/".Length..]}";

    private CsiClient Csi => _csi!;

    public async Task InitializeAsync()
    {
        await vm.EnsurePoolReadyAsync();
        await StartDriverAsync();
    }

    public async Task DisposeAsync()
    {
        await StopDriverAsync();
        if (await vm.PoolHealthAsync() is not null)
        {
            await vm.Vm.RunAsync("zfs", ["destroy", "-r", "-f", _parent]);
        }
        await vm.Vm.RunAsync("rm", ["-rf", KeyDirectory]);
    }

    [Fact]
    public async Task An_encrypted_volume_is_its_own_encryption_root_and_its_key_lives_only_in_a_root_only_file_that_keylocation_names()
    {
        var request = Encrypted(Requests.Unique("vol"));
        var id = (await Csi.Controller.CreateVolumeAsync(request)).Volume.VolumeId;

        var props = await PropertiesAsync(id, "encryption", "keyformat", "keylocation", "encryptionroot", "keystatus");
        Assert.Equal("aes-256-gcm", props["encryption"]);
        Assert.Equal("passphrase", props["keyformat"]);
        Assert.Equal(id, props["encryptionroot"]);
        Assert.Equal("available", props["keystatus"]);
        var keyFile = props["keylocation"]["file://".Length..];
        Assert.StartsWith($"file://{KeyDirectory}/{_parent}/", props["keylocation"], StringComparison.Ordinal);
        Assert.Equal("600", (await vm.Host.CheckAsync("stat", "-c", "%a", keyFile)).Trim());
        Assert.Equal("700", (await vm.Host.CheckAsync("stat", "-c", "%a", KeyDirectory)).Trim());
        Assert.Equal(Passphrase, await vm.Host.CheckAsync("cat", keyFile));
        // The key is in no property, no volume context and no log line.
        Assert.DoesNotContain(Passphrase, await vm.Host.CheckAsync("zfs", "get", "-H", "-o", "value", "all", id));
        Assert.DoesNotContain(_driver!.OutputLines(), l => l.Contains(Passphrase, StringComparison.Ordinal));

        await vm.Host.CheckAsync("sh", "-c", "echo secret-data > \"$1\" && sync", "sh", $"/{id}/file");
        Assert.Equal("secret-data", (await vm.Host.CheckAsync("cat", $"/{id}/file")).Trim());

        // The CO's retry: the same volume, no second key file.
        var again = (await Csi.Controller.CreateVolumeAsync(request)).Volume;
        Assert.Equal(id, again.VolumeId);
        Assert.Equal([keyFile], await KeyFilesAsync());
        // A retry whose Secret changed meanwhile: the volume keeps its first key, and the CO is told.
        var changed = Encrypted(request.Name, secret: "another passphrase entirely");
        var e = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await Csi.Controller.CreateVolumeAsync(changed)
        );
        Assert.Equal(Grpc.Core.StatusCode.AlreadyExists, e.StatusCode);
        Assert.Contains("another encryption key", e.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(Passphrase, await vm.Host.CheckAsync("cat", keyFile));
        Assert.Equal([keyFile], await KeyFilesAsync());
    }

    [Fact]
    public async Task Restores_and_clones_of_an_encrypted_volume_share_its_key_and_its_key_file_goes_with_the_last_of_them()
    {
        // A restore by an encrypting class needs no secret: ZFS gives a clone its origin's key.
        var (origin, snapshot, restored) = await EncryptedWithRestoreAsync("before-snapshot");
        // A clone by a class without encryption is encrypted all the same (README, "Encryption").
        var cloneRequest = Requests.Create(Requests.Unique("clone"), 64 * Requests.MiB);
        cloneRequest.VolumeContentSource = new VolumeContentSource
        {
            Volume = new VolumeContentSource.Types.VolumeSource { VolumeId = origin },
        };
        var clone = (await Csi.Controller.CreateVolumeAsync(cloneRequest)).Volume.VolumeId;

        foreach (var copy in new[] { restored, clone })
        {
            var props = await PropertiesAsync(copy, "encryptionroot", "keystatus", "keylocation");
            Assert.Equal(origin, props["encryptionroot"]);
            Assert.Equal("available", props["keystatus"]);
            Assert.Equal("before-snapshot", (await vm.Host.CheckAsync("cat", $"/{copy}/file")).Trim());
        }
        var keyFiles = await KeyFilesAsync();
        Assert.Single(keyFiles);

        // The origin goes first: kept for its snapshot's restore, so its key stays.
        await Csi.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = origin });
        Assert.Equal(keyFiles, await KeyFilesAsync());
        Assert.Equal("before-snapshot", (await vm.Host.CheckAsync("cat", $"/{restored}/file")).Trim());

        await Csi.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = clone });
        await Csi.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = snapshot });
        await Csi.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = restored });
        // The sweep that the deletes asked for destroys the kept origin, and then its key file.
        Assert.True(
            await GatedDriver.EventuallyAsync(async () => (await KeyFilesAsync()).Count == 0, TimeSpan.FromSeconds(90)),
            $"the kept origin's key file stayed: {string.Join(", ", await KeyFilesAsync())}; datasets: {await vm.Host.CheckAsync("zfs", "list", "-H", "-o", "name", "-r", _parent)}"
        );
        var left = await vm.Host.CheckAsync("zfs", "list", "-H", "-o", "name", "-r", _parent);
        Assert.All(new[] { origin, restored, clone }, v => Assert.DoesNotContain(v, left, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_or_malformed_key_or_a_plain_source_for_an_encrypting_class_is_INVALID_ARGUMENT_and_makes_nothing()
    {
        var plain = (await Csi.Controller.CreateVolumeAsync(Requests.Create(Requests.Unique("plain")))).Volume.VolumeId;
        var plainSnapshot = (
            await Csi.Controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = Requests.Unique("psnap"), SourceVolumeId = plain }
            )
        )
            .Snapshot
            .SnapshotId;
        var before = await vm.Host.CheckAsync("zfs", "list", "-H", "-t", "all", "-o", "name", "-r", _parent);

        var noSecret = Encrypted(Requests.Unique("nokey"), secret: null);
        var tooShort = Encrypted(Requests.Unique("short"), secret: "seven77");
        var badHex = Encrypted(Requests.Unique("hex"), secret: "not hex at all", keyFormat: "hex");
        var badRaw = Encrypted(Requests.Unique("raw"), secret: Convert.ToBase64String(new byte[16]), keyFormat: "raw");
        var fromPlain = Encrypted(Requests.Unique("fromplain"), secret: null);
        fromPlain.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = plainSnapshot },
        };
        foreach (
            var (request, expected) in new[]
            {
                (noSecret, "encryptionKey"),
                (tooShort, "8 to 512"),
                (badHex, "hexadecimal"),
                (badRaw, "base64"),
                (fromPlain, "not encrypted"),
            }
        )
        {
            var refused = await Assert.ThrowsAsync<RpcException>(async () =>
                await Csi.Controller.CreateVolumeAsync(request)
            );
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Contains(expected, refused.Status.Detail, StringComparison.Ordinal);
            Assert.Contains("nothing was made", refused.Status.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain("seven77", refused.Status.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(before, await vm.Host.CheckAsync("zfs", "list", "-H", "-t", "all", "-o", "name", "-r", _parent));
        Assert.Empty(await KeyFilesAsync());
    }

    [Fact]
    public async Task After_a_reboot_the_bootstrap_loads_the_keys_and_mounts_the_encrypted_volumes_before_it_is_ready_and_names_each_key_that_does_not_load()
    {
        var (origin, _, restored) = await EncryptedWithRestoreAsync("survives-the-reboot");
        var keyFile = (await KeyFilesAsync()).Single();

        await StopDriverAsync();
        await vm.RebootAsync();
        File.Delete(vm.HostStatusFile);
        var (exitCode, output) = await BootstrapAsync();

        Assert.True(exitCode == 0, $"bootstrap exited {exitCode} after the reboot:\n{output}");
        var status = await BootstrapStatusFile.ReadAsync(vm.HostStatusFile, CancellationToken.None);
        Assert.Equal(BootstrapState.Ready, status!.State);
        Assert.Contains("encryption key(s) loaded", status.Reason, StringComparison.Ordinal);
        foreach (var volume in new[] { origin, restored })
        {
            var props = await PropertiesAsync(volume, "keystatus", "mounted");
            Assert.Equal("available", props["keystatus"]);
            Assert.Equal("yes", props["mounted"]);
            Assert.Equal("survives-the-reboot", (await vm.Host.CheckAsync("cat", $"/{volume}/file")).Trim());
        }
        Assert.DoesNotContain(Passphrase, output, StringComparison.Ordinal);

        // A key file that holds another key, then none at all: not ready, naming the volume and why.
        await LockAsync(origin, restored);
        var good = await vm.Host.CheckAsync("cat", keyFile);
        await vm.Host.CheckAsync("sh", "-c", "printf 'not the right key' > \"$1\"", "sh", keyFile);
        (exitCode, output) = await BootstrapAsync();
        Assert.True(exitCode != 0, $"bootstrap said ready with a wrong key:\n{output}");
        status = await BootstrapStatusFile.ReadAsync(vm.HostStatusFile, CancellationToken.None);
        Assert.Equal(BootstrapState.Failed, status!.State);
        Assert.Contains(origin, status.Reason, StringComparison.Ordinal);
        Assert.Contains("Incorrect key", status.Reason, StringComparison.Ordinal);
        Assert.Equal("no", (await PropertiesAsync(restored, "mounted"))["mounted"]);

        await vm.Host.CheckAsync("rm", keyFile);
        (exitCode, output) = await BootstrapAsync();
        Assert.True(exitCode != 0, $"bootstrap said ready with a key file missing:\n{output}");
        status = await BootstrapStatusFile.ReadAsync(vm.HostStatusFile, CancellationToken.None);
        Assert.Contains($"{origin}: its key file {keyFile} is missing", status!.Reason, StringComparison.Ordinal);

        // The file restored from its backup: ready again, both volumes mounted with their data.
        await vm.Host.CheckAsync("sh", "-c", "printf '%s' \"$2\" > \"$1\" && chmod 600 \"$1\"", "sh", keyFile, good);
        (exitCode, output) = await BootstrapAsync();
        Assert.True(exitCode == 0, $"bootstrap exited {exitCode} with the key file back:\n{output}");
        Assert.Equal("survives-the-reboot", (await vm.Host.CheckAsync("cat", $"/{restored}/file")).Trim());

        // The controller after the reboot serves them as before.
        await StartDriverAsync();
        var got = await Csi.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = origin });
        Assert.Equal(origin, got.Volume.VolumeId);
    }

    /// <summary>
    /// An encrypted volume with <paramref name="content"/> in its file, a snapshot of it, and that
    /// snapshot restored by the encrypting class without a secret: (volume, snapshot, restore).
    /// </summary>
    private async Task<(string Volume, string Snapshot, string Restored)> EncryptedWithRestoreAsync(string content)
    {
        var volume = (await Csi.Controller.CreateVolumeAsync(Encrypted(Requests.Unique("orig")))).Volume.VolumeId;
        await vm.Host.CheckAsync("sh", "-c", "echo \"$2\" > \"$1\" && sync", "sh", $"/{volume}/file", content);
        var snapshot = (
            await Csi.Controller.CreateSnapshotAsync(
                new CreateSnapshotRequest { Name = Requests.Unique("snap"), SourceVolumeId = volume }
            )
        )
            .Snapshot
            .SnapshotId;
        var restore = Encrypted(Requests.Unique("rest"), secret: null);
        restore.VolumeContentSource = new VolumeContentSource
        {
            Snapshot = new VolumeContentSource.Types.SnapshotSource { SnapshotId = snapshot },
        };
        return (volume, snapshot, (await Csi.Controller.CreateVolumeAsync(restore)).Volume.VolumeId);
    }

    /// <summary>An encrypting StorageClass's request; <paramref name="secret"/> null gives no secrets at all.</summary>
    private static CreateVolumeRequest Encrypted(string name, string? secret = Passphrase, string? keyFormat = null)
    {
        var parameters = new Dictionary<string, string> { ["encryption"] = "on" };
        if (keyFormat is not null)
        {
            parameters["keyFormat"] = keyFormat;
        }
        var request = Requests.Create(name, 64 * Requests.MiB, parameters: parameters);
        if (secret is not null)
        {
            request.Secrets.Add("encryptionKey", secret);
        }
        return request;
    }

    /// <summary>The volume's datasets unmounted and its key unloaded, as after an import without keys.</summary>
    private async Task LockAsync(string root, params string[] others)
    {
        foreach (var dataset in others.Append(root))
        {
            await vm.Host.CheckAsync("zfs", "unmount", dataset);
        }
        await vm.Host.CheckAsync("zfs", "unload-key", root);
    }

    private Task<(int ExitCode, string Output)> BootstrapAsync() =>
        vm.BootstrapOnceAsync(
            "--import-mount",
            "all",
            "--no-rebuild",
            "--key-dir",
            KeyDirectory,
            "--status-file",
            StorageHostVmFixture.StatusFile
        );

    private async Task<Dictionary<string, string>> PropertiesAsync(string dataset, params string[] properties) =>
        (await vm.Host.CheckAsync("zfs", "get", "-H", "-o", "property,value", string.Join(',', properties), dataset))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .ToDictionary(c => c[0], c => c[1]);

    /// <summary>The key files (not temporaries) under this test's key directory, sorted.</summary>
    private async Task<IReadOnlyList<string>> KeyFilesAsync()
    {
        var result = await vm.Vm.RunAsync("find", [KeyDirectory, "-type", "f", "-name", "*.key"]);
        return result.ExitCode == 0
            ?
            [
                .. result
                    .StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Order(StringComparer.Ordinal),
            ]
            : [];
    }

    private async Task StartDriverAsync()
    {
        _driver = await DriverProcess.StartOnAsync(
            vm.Host,
            vm.RunDirectory,
            $"enc-{Guid.NewGuid():N}"[..12],
            ["--mode", "controller", "--parent-dataset", _parent, "--zfs-timeout", "60", "--key-dir", KeyDirectory]
        );
        _csi = new CsiClient(_driver.SocketPath);
    }

    private async Task StopDriverAsync()
    {
        _csi?.Dispose();
        _csi = null;
        if (_driver is not null)
        {
            await _driver.DisposeAsync();
            _driver = null;
        }
    }
}
