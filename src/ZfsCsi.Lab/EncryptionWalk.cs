using System.Security.Cryptography;
using Csi.V1;

namespace ZfsCsi.Lab;

/// <summary>
/// The OpenZFS demo's reboot of the storage host with an encrypted volume published on two nodes
/// (README, "Encryption"), in two phases around lab/demo-openzfs's reboot of the VM:
/// <c>before</c> makes the volume from a class with <c>encryption: "on"</c> and a passphrase in
/// CreateVolume's secrets (random, never printed), shows what ZFS holds (the key only as a file
/// path), publishes it to pods on yakko and wakko, writes on one and reads on the other, and
/// records the ids in <c>--json FILE</c>; <c>after</c> (the storage host rebooted, its bootstrap
/// ready again) publishes again on both nodes as kubelet would for the pods' restart, reads the
/// file written before the reboot on both, writes on wakko and reads on yakko, then unpublishes,
/// deletes the volume and shows its key file gone.
/// </summary>
public static class EncryptionWalk
{
    private const long MiB = 1024 * 1024;
    private const string File = "before-the-reboot.txt";

    public static async Task<int> RunAsync(LabArgs args)
    {
        var state = args.Json
            ?? throw new LabException("walk-encrypted needs --json FILE (the state between its phases)");
        var cluster = args.Cluster ?? throw new LabException("walk-encrypted needs --cluster DIR");
        using var channel = UnixSocketChannel.Create(args.Endpoint);
        var controller = new Controller.ControllerClient(channel);
        var storageHost = new StorageHostShell(args.StorageHost);
        using var yakko = LabNode.Open(cluster, "yakko");
        using var wakko = LabNode.Open(cluster, "wakko");
        switch (args.Phase)
        {
            case "before":
                await BeforeAsync(controller, storageHost, yakko, wakko, state);
                return 0;
            case "after":
                await AfterAsync(controller, storageHost, yakko, wakko, state);
                return 0;
            default:
                throw new LabException("walk-encrypted needs --phase before or --phase after");
        }
    }

    private static async Task BeforeAsync(
        Controller.ControllerClient controller,
        StorageHostShell storageHost,
        LabNode yakko,
        LabNode wakko,
        string state
    )
    {
        var name = $"pvc-secret-{DateTime.UtcNow:HHmmss}";
        var volume = await Walk.Step(
                $"create volume '{name}' from an encrypting class (encryption: \"on\", the key in the provisioner Secret)",
                async () =>
                {
                    var request = new CreateVolumeRequest
                    {
                        Name = name,
                        CapacityRange = new CapacityRange { RequiredBytes = 64 * MiB },
                    };
                    request.VolumeCapabilities.Add(ClusterWalk.Capability());
                    request.Parameters.Add("encryption", "on");
                    // As the external-provisioner passes the class's Secret: a passphrase this demo never prints.
                    request.Secrets.Add("encryptionKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
                    return (await controller.CreateVolumeAsync(request)).Volume;
                },
                v => $"{v.VolumeId}, {v.CapacityBytes / MiB} MiB"
            )
            .ConfigureAwait(false);
        var id = volume.VolumeId;
        await Walk.Step(
                "what ZFS holds for it on alice (zfs get)",
                () => KeyPropertiesAsync(storageHost, id),
                p =>
                    p["keystatus"] == "available"
                    && p["encryptionroot"] == id
                    && p["keylocation"].StartsWith("file:///")
                        ? $"encryption={p["encryption"]}, keyformat={p["keyformat"]}, encryptionroot=itself, keystatus={p["keystatus"]}, keylocation={p["keylocation"]} (a path: the key itself is in no property)"
                        : throw new LabException($"not an encryption root with its key loaded: {string.Join(", ", p)}")
            )
            .ConfigureAwait(false);
        var onYakko = await PublishAsync(yakko, id, "pod-enc-a").ConfigureAwait(false);
        var onWakko = await PublishAsync(wakko, id, "pod-enc-b").ConfigureAwait(false);
        var text = $"written on yakko before alice rebooted, {DateTime.UtcNow:O}";
        await WriteAsync(yakko, onYakko, text, "write a file on yakko").ConfigureAwait(false);
        await ReadAsync(wakko, onWakko, text, "read it on wakko").ConfigureAwait(false);
        await System.IO.File.WriteAllLinesAsync(state, [id, text]).ConfigureAwait(false);
    }

    private static async Task AfterAsync(
        Controller.ControllerClient controller,
        StorageHostShell storageHost,
        LabNode yakko,
        LabNode wakko,
        string state
    )
    {
        var lines = await System.IO.File.ReadAllLinesAsync(state).ConfigureAwait(false);
        var (id, text) = (lines[0], lines[1]);
        var keyFile = (await KeyPropertiesAsync(storageHost, id).ConfigureAwait(false))["keylocation"][
            "file://".Length..
        ];
        await Walk.Step(
                "on alice after the reboot and the bootstrap",
                () => KeyPropertiesAsync(storageHost, id),
                p =>
                    p["keystatus"] == "available" && p["mounted"] == "yes"
                        ? "keystatus=available, mounted=yes: the bootstrap loaded its key from its file"
                        : throw new LabException($"the encrypted volume is not back: {string.Join(", ", p)}")
            )
            .ConfigureAwait(false);
        // As kubelet does for the pods' restart: publish again (OK when the bind survived the
        // reboot; it replaces the fence the node's bind check put while alice's dataset was gone).
        var onYakko = await PublishAsync(yakko, id, "pod-enc-a").ConfigureAwait(false);
        var onWakko = await PublishAsync(wakko, id, "pod-enc-b").ConfigureAwait(false);
        await ReadAsync(yakko, onYakko, text, "read the file written before the reboot on yakko").ConfigureAwait(false);
        await ReadAsync(wakko, onWakko, text, "and on wakko").ConfigureAwait(false);
        var again = $"written on wakko after the reboot, {DateTime.UtcNow:O}";
        await WriteAsync(wakko, onWakko, again, "write on wakko").ConfigureAwait(false);
        await ReadAsync(yakko, onYakko, again, "read it on yakko").ConfigureAwait(false);

        foreach (var (node, target) in new[] { (yakko, onYakko), (wakko, onWakko) })
        {
            await node.Client.NodeUnpublishVolumeAsync(
                new NodeUnpublishVolumeRequest { VolumeId = id, TargetPath = target }
            );
        }
        await Walk.Step(
                "unpublish on both nodes and delete the volume",
                async () => await controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id }),
                _ => "deleted"
            )
            .ConfigureAwait(false);
        await Walk.Step(
                "its key file on alice",
                async () =>
                    (
                        await storageHost.RunAsync(
                            "sh",
                            "-c",
                            "test -e \"$1\" && echo present || echo gone",
                            "sh",
                            keyFile
                        )
                    ).Trim(),
                r =>
                    r == "gone"
                        ? $"{keyFile}: gone with the volume"
                        : throw new LabException($"{keyFile} is still there")
            )
            .ConfigureAwait(false);
    }

    /// <summary>
    /// NodePublishVolume as kubelet retries it: after alice's reboot the node's SSHFS mount may still
    /// be reconnecting (UNAVAILABLE), its session still see the /data below the pool's mount
    /// (NOT_FOUND), or the bind be fenced (FAILED_PRECONDITION until alice's dataset is mounted
    /// again), so a refusal is retried every 3 s for up to 2 minutes, each one printed.
    /// </summary>
    private static async Task<string> PublishAsync(LabNode node, string id, string pod)
    {
        var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                return await Walk.Step(
                        $"publish it to {pod} on {node.Name}",
                        () => ClusterWalk.PublishAsync(node, id, pod, []),
                        t => t
                    )
                    .ConfigureAwait(false);
            }
            catch (LabException e)
                when (DateTime.UtcNow < until
                    && (
                        e.Message.Contains("Unavailable")
                        || e.Message.Contains("FailedPrecondition")
                        || e.Message.Contains("NotFound")
                    )
                )
            {
                Console.WriteLine("    retrying in 3 s, as kubelet would");
                await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            }
        }
    }

    private static Task<string> WriteAsync(LabNode node, string target, string text, string step) =>
        Walk.Step(
            step,
            async () =>
                await node.RunAsync(
                        "sh",
                        "-c",
                        "printf '%s' \"$1\" > \"$2\" && sync",
                        "sh",
                        text,
                        Path.Combine(target, File)
                    )
                    .ConfigureAwait(false),
            _ => File
        );

    private static Task<string> ReadAsync(LabNode node, string target, string expected, string step) =>
        Walk.Step(
            step,
            async () =>
            {
                var read = await node.RunAsync("cat", Path.Combine(target, File)).ConfigureAwait(false);
                return read == expected ? read : throw new LabException($"{node.Name} read '{read}', not '{expected}'");
            },
            r => $"'{r}'"
        );

    private static async Task<Dictionary<string, string>> KeyPropertiesAsync(StorageHostShell storageHost, string id) =>
        (
            await storageHost
                .RunAsync(
                    "zfs",
                    "get",
                    "-H",
                    "-o",
                    "property,value",
                    "encryption,keyformat,keylocation,keystatus,encryptionroot,mounted",
                    id
                )
                .ConfigureAwait(false)
        )
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .ToDictionary(c => c[0], c => c[1]);
}
