using ZfsCsi.Bootstrap;
using ZfsCsi.Core.Health;
using ZfsCsi.Core.Options;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Hosting;
using ZfsCsi.Driver.Options;

namespace ZfsCsi.IntegrationTests.Deploy;

/// <summary>
/// The manifests under deploy/, rendered by kustomize exactly as `kubectl apply -k` would apply
/// them, checked against the driver itself: its real option parser, its socket, its name. A
/// mistake here only shows on a real cluster (a pod in CrashLoopBackOff, a PVC Pending forever, a
/// volume mounted in the container but invisible to the pod), so it is caught here instead.
/// </summary>
public sealed class ManifestTests : IClassFixture<ManifestTests.Renders>
{
    public static readonly TheoryData<string> Kustomizations = new() { "deploy/base", "deploy/overlays/seed-cluster" };

    private const string KubeletDir = "/var/lib/kubelet";
    private const string DataRoot = "/data";
    private readonly Renders _renders;

    public ManifestTests(Renders renders) => _renders = renders;

    /// <summary>Each kustomization is rendered once for the whole class (kubectl takes ~0.1 s).</summary>
    public sealed class Renders
    {
        private readonly Dictionary<string, Task<IReadOnlyList<K8sObject>>> _cache = [];
        private readonly Lock _lock = new();

        public Task<IReadOnlyList<K8sObject>> GetAsync(string directory)
        {
            lock (_lock)
            {
                if (!_cache.TryGetValue(directory, out var render))
                {
                    _cache[directory] = render = Kustomize.RenderAsync(directory);
                }
                return render;
            }
        }
    }

    private static bool IsDriver(ContainerView c) => c.ImageName == "zfs-csi-driver";

    private static bool IsBootstrap(ContainerView c) => c.ImageName == "zfs-csi-bootstrap";

    private static IEnumerable<ContainerView> Drivers(IEnumerable<K8sObject> objects) =>
        PodView.All(objects).SelectMany(p => p.Containers).Where(IsDriver);

    // The checks below read single flags (with the driver's own defaults and socket-path rule), so
    // that a flag the parser does not know fails one test, the one about the parser, not all of them.
    private static string SocketPath(ContainerView driver) =>
        new DriverOptions { Endpoint = driver.Flag("--endpoint") ?? new DriverOptions().Endpoint }.SocketPath;

    private static string DriverName(ContainerView driver) =>
        driver.Flag("--driver-name") ?? DriverOptions.DefaultDriverName;

    private static string MountLockFile(ContainerView driver) =>
        driver.Flag("--mount-lock-file") ?? new DriverOptions().Zfs.MountLockFile;

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_driver_container_has_args_the_driver_accepts(string kustomization)
    {
        var objects = await _renders.GetAsync(kustomization);
        var drivers = Drivers(objects).ToList();
        Assert.True(
            drivers.Count >= 2,
            $"{kustomization}: expected a controller and a node driver container, found {drivers.Count}"
        );
        foreach (var driver in drivers)
        {
            DriverOptions options;
            try
            {
                options = DriverOptions.Parse(driver.ExpandedArgs());
                options.Validate();
            }
            catch (OptionsException e)
            {
                Assert.Fail(
                    $"{kustomization}: {driver}: the driver would refuse to start: {e.Message}\nargs: {string.Join(' ', driver.Args)}"
                );
                return;
            }
            var expected = driver.Pod.Owner.Kind == "Deployment" ? DriverMode.Controller : DriverMode.Node;
            Assert.True(
                options.Mode == expected,
                $"{kustomization}: {driver}: --mode is {options.Mode}, a {driver.Pod.Owner.Kind} must run {expected}"
            );
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_bootstrap_container_and_its_liveness_command_have_args_the_bootstrap_accepts(
        string kustomization
    )
    {
        var objects = await _renders.GetAsync(kustomization);
        var bootstraps = PodView.All(objects).SelectMany(p => p.Containers).Where(IsBootstrap).ToList();
        Assert.NotEmpty(bootstraps);
        foreach (var bootstrap in bootstraps)
        {
            var options = ParseBootstrap(kustomization, bootstrap, bootstrap.ExpandedArgs(), "args");
            Assert.True(
                options.Command == BootstrapCommand.Watch,
                $"{kustomization}: {bootstrap}: a sidecar must `watch` (once exits, and the pod restarts it)"
            );
            Assert.True(
                options.Module == ModuleMode.Kernel,
                $"{kustomization}: {bootstrap}: the cluster's pool is OpenZFS (--module kernel)"
            );

            var alive = Yaml.Strings(Yaml.Map(Yaml.Map(bootstrap.Node, "livenessProbe"), "exec"), "command").ToList();
            Assert.True(
                alive.Count >= 2 && Path.GetFileName(alive[0]) == "zfs-csi-bootstrap",
                $"{kustomization}: {bootstrap}: its liveness probe must run zfs-csi-bootstrap, runs `{string.Join(' ', alive)}`"
            );
            var liveness = ParseBootstrap(kustomization, bootstrap, alive[1..], "liveness command");
            Assert.True(
                liveness.Command == BootstrapCommand.Alive,
                $"{kustomization}: {bootstrap}: its liveness command must be `alive`, is `{alive[1]}`"
            );
            Assert.True(
                liveness.StatusFile == options.StatusFile,
                $"{kustomization}: {bootstrap}: `alive` reads {liveness.StatusFile}, the sidecar writes {options.StatusFile}"
            );
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task A_bootstrap_in_a_container_mounts_only_where_the_host_sees_it(string kustomization)
    {
        var objects = await _renders.GetAsync(kustomization);
        foreach (var bootstrap in PodView.All(objects).SelectMany(p => p.Containers).Where(IsBootstrap))
        {
            var options = BootstrapOptions.Parse(bootstrap.ExpandedArgs());
            if (!options.Import)
            {
                continue;
            }
            // A plain import mounts every dataset (the seed's /home/*) in the container's namespace only.
            Assert.True(
                options.ImportMount != ImportMount.All,
                $"{kustomization}: {bootstrap}: --import-mount all mounts the pool's datasets inside the container only: use none or the shared directory (/data)"
            );
            if (options.ImportMount == ImportMount.Under)
            {
                var mount = bootstrap.MountHolding(options.MountUnder);
                Assert.True(
                    mount is { Propagation: "Bidirectional" } && bootstrap.Pod.HostPath(mount.Volume) is not null,
                    $"{kustomization}: {bootstrap}: --import-mount {options.MountUnder} is not inside a Bidirectional hostPath mount, the host would not see those mounts"
                );
            }
        }
    }

    [Fact]
    public async Task The_seed_cluster_sidecar_only_checks_and_leaves_building_importing_and_mounting_to_alice()
    {
        var objects = await _renders.GetAsync("deploy/overlays/seed-cluster");
        var bootstrap = Assert.Single(PodView.All(objects).SelectMany(p => p.Containers), IsBootstrap);
        var options = BootstrapOptions.Parse(bootstrap.ExpandedArgs());

        Assert.True(options.NoRebuild, "alice rebuilds on the host (deploy/systemd): the sidecar needs --no-rebuild");
        Assert.False(options.Import, "alice imports and mounts /home/* on the host: the sidecar needs --no-import");
        Assert.Equal("/root/src/zfs-2.0.1", bootstrap.Pod.HostPath(bootstrap.MountHolding(options.SourceTree)!.Volume));
        foreach (var path in new[] { options.SourceTree, options.ModulesDirectory })
        {
            var mount = bootstrap.MountHolding(path);
            Assert.True(
                mount is { ReadOnly: true },
                $"{bootstrap}: {path} must be mounted read-only in a sidecar that never builds"
            );
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Only_containers_that_mount_sshfs_need_dev_fuse(string kustomization)
    {
        var objects = await _renders.GetAsync(kustomization);
        foreach (var container in PodView.All(objects).SelectMany(p => p.Containers))
        {
            var fuse = container.Mounts.Any(m => container.Pod.HostPath(m.Volume) == "/dev/fuse");
            var sshfs = container.Flag("--sshfs-remote") is not null;
            // A CharDevice hostPath that a node lacks keeps the pod from starting on that node.
            Assert.True(
                fuse == sshfs,
                fuse
                    ? $"{kustomization}: {container} mounts /dev/fuse but never mounts SSHFS"
                    : $"{kustomization}: {container} mounts SSHFS but has no /dev/fuse"
            );
        }
    }

    private static BootstrapOptions ParseBootstrap(
        string kustomization,
        ContainerView bootstrap,
        IReadOnlyList<string> args,
        string what
    )
    {
        try
        {
            return BootstrapOptions.Parse(args);
        }
        catch (OptionsException e)
        {
            Assert.Fail(
                $"{kustomization}: {bootstrap}: zfs-csi-bootstrap would refuse its {what}: {e.Message}\nargs: {string.Join(' ', args)}"
            );
            throw;
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_driver_name_is_the_same_everywhere(string kustomization)
    {
        var objects = await _renders.GetAsync(kustomization);
        var csiDriver = Assert.Single(objects, o => o.Kind == "CSIDriver");
        var name = csiDriver.Name;
        foreach (var driver in Drivers(objects))
        {
            Assert.True(
                DriverName(driver) == name,
                $"{kustomization}: {driver}: --driver-name differs from the CSIDriver '{name}'"
            );
        }
        var storageClasses = objects.Where(o => o.Kind == "StorageClass").ToList();
        Assert.NotEmpty(storageClasses);
        foreach (var sc in storageClasses)
        {
            Assert.True(
                Yaml.Str(sc.Root, "provisioner") == name,
                $"{kustomization}: {sc}: provisioner is not '{name}'"
            );
        }
        var snapshotClasses = objects
            .Where(o => o.Kind is "VolumeSnapshotClass" or "VolumeGroupSnapshotClass")
            .ToList();
        Assert.NotEmpty(snapshotClasses);
        foreach (var vsc in snapshotClasses)
        {
            Assert.True(Yaml.Str(vsc.Root, "driver") == name, $"{kustomization}: {vsc}: driver is not '{name}'");
        }
        // No ControllerPublishVolume: kubelet must not wait for a VolumeAttachment nobody makes.
        Assert.Equal("false", Yaml.Str(Yaml.Map(csiDriver.Root, "spec"), "attachRequired"));
    }

    private static Dictionary<string, string> Parameters(K8sObject o) =>
        Yaml.Map(o.Root, "parameters") is { } map
            ? map.Children.ToDictionary(
                p => ((YamlDotNet.RepresentationModel.YamlScalarNode)p.Key).Value ?? "",
                p => ((YamlDotNet.RepresentationModel.YamlScalarNode)p.Value).Value ?? ""
            )
            : [];

    [Fact]
    public async Task The_example_volume_attributes_classes_are_ones_the_driver_takes_with_the_default_storage_class()
    {
        // deploy/examples: applied by hand (kubectl apply -k deploy/examples), so nothing else would
        // notice a class the driver refuses. Each must name our driver, parse as the driver parses
        // mutable_parameters (ControllerModifyVolume's INVALID_ARGUMENT otherwise, which the
        // external-resizer marks infeasible), and apply on top of the default StorageClass.
        // Classes a claim moves between name the same keys:
        // a key one sets and another leaves out would stay as the first set it.
        var examples = await _renders.GetAsync("deploy/examples");
        var deployBase = await _renders.GetAsync("deploy/base");
        var driverName = Assert.Single(deployBase, o => o.Kind == "CSIDriver").Name;
        var defaultClass = Assert.Single(deployBase, o =>
            o.Kind == "StorageClass"
            && Yaml.Str(
                Yaml.Map(Yaml.Map(o.Root, "metadata"), "annotations"),
                "storageclass.kubernetes.io/is-default-class"
            ) == "true"
        );
        var classes = examples.Where(o => o.Kind == "VolumeAttributesClass").ToList();
        Assert.NotEmpty(classes);
        Assert.All(examples, o => Assert.Equal("VolumeAttributesClass", o.Kind));
        foreach (var vac in classes)
        {
            Assert.Equal("storage.k8s.io/v1", Yaml.Str(vac.Root, "apiVersion"));
            Assert.True(Yaml.Str(vac.Root, "driverName") == driverName, $"{vac}: driverName is not '{driverName}'");
            var mutable = MutableParameters.Parse(Parameters(vac));
            Assert.False(mutable.IsEmpty, $"{vac}: no parameters (ControllerModifyVolume needs at least one)");
            mutable.AppliedTo(VolumeParameters.Parse(Parameters(defaultClass)));
        }
        var keys = classes.Select(c => string.Join(',', MutableParameters.Parse(Parameters(c)).Values.Keys)).Distinct();
        Assert.Single(keys);
    }

    [Fact]
    public async Task The_encryption_example_is_a_class_the_driver_takes_whose_secret_the_provisioner_may_read_and_nothing_more()
    {
        var example = await _renders.GetAsync("deploy/examples/encryption");
        var deployBase = await _renders.GetAsync("deploy/base");
        var driverName = Assert.Single(deployBase, o => o.Kind == "CSIDriver").Name;
        var controller = Assert.Single(PodView.All(deployBase), p =>
            p.Containers.Any(c => IsDriver(c) && c.Flag("--mode") == "controller")
        );
        var serviceAccount = Yaml.Str(controller.Owner.PodSpec, "serviceAccountName");
        var ns = Yaml.Str(Yaml.Map(controller.Owner.Root, "metadata"), "namespace");

        var sc = Assert.Single(example, o => o.Kind == "StorageClass");
        Assert.Equal(driverName, Yaml.Str(sc.Root, "provisioner"));
        var parameters = Parameters(sc);
        Assert.NotNull(VolumeParameters.Parse(parameters).Encryption);
        Assert.Equal(ns, parameters["csi.storage.k8s.io/provisioner-secret-namespace"]);
        Assert.False(string.IsNullOrEmpty(parameters["csi.storage.k8s.io/provisioner-secret-name"]));
        // No Secret is shipped: a key written in a repository is no key.
        Assert.DoesNotContain(example, o => o.Kind == "Secret");

        var role = Assert.Single(example, o => o.Kind == "Role");
        Assert.Equal(ns, Yaml.Str(Yaml.Map(role.Root, "metadata"), "namespace"));
        var rule = Assert.Single(Yaml.Seq(role.Root, "rules"));
        Assert.Equal(["secrets"], Yaml.Strings(rule, "resources"));
        Assert.Equal(["get"], Yaml.Strings(rule, "verbs"));
        var binding = Assert.Single(example, o => o.Kind == "RoleBinding");
        Assert.Equal(role.Name, Yaml.Str(Yaml.Map(binding.Root, "roleRef"), "name"));
        var subject = Assert.Single(Yaml.Seq(binding.Root, "subjects"));
        Assert.Equal(serviceAccount, Yaml.Str(subject, "name"));
        Assert.Equal(ns, Yaml.Str(subject, "namespace"));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_controller_and_the_bootstrap_see_the_key_directory_of_the_host_at_the_path_each_volume_names(
        string kustomization
    )
    {
        // keylocation=file://PATH is read by zfs in whichever mount namespace runs it: the controller's
        // zfs create, the bootstrap's load-key, and the host's own zfs after a reboot.
        var objects = await _renders.GetAsync(kustomization);
        var controller = Assert.Single(PodView.All(objects), p =>
            p.Containers.Any(c => IsDriver(c) && c.Flag("--mode") == "controller")
        );
        var driver = controller.Containers.Single(IsDriver);
        var bootstrap = controller.Containers.Single(IsBootstrap);
        var keyDir = driver.Flag("--key-dir") ?? VolumeOptions.DefaultKeyDirectory;
        Assert.Equal(keyDir, ParseBootstrap(kustomization, bootstrap, bootstrap.ExpandedArgs(), "args").KeyDirectory);
        foreach (var container in new[] { driver, bootstrap })
        {
            var mount = container.MountHolding(Path.Combine(keyDir, "data/k8s/pvc-x.0a1b2c3d.key"));
            Assert.True(mount is not null, $"{kustomization}: {container} does not mount {keyDir}");
            Assert.Equal(keyDir, mount!.MountPath);
            Assert.Equal(keyDir, controller.HostPath(mount.Volume));
            Assert.Equal(container == bootstrap, mount.ReadOnly);
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_sidecar_talks_to_the_driver_socket_through_a_shared_volume(string kustomization)
    {
        var objects = await _renders.GetAsync(kustomization);
        foreach (var pod in PodView.All(objects))
        {
            var driver = Assert.Single(pod.Containers, IsDriver);
            var socket = SocketPath(driver);
            var driverMount = driver.MountHolding(socket);
            Assert.True(
                driverMount is not null,
                $"{kustomization}: {driver}: the socket {socket} is not inside any volume, sidecars cannot reach it"
            );
            Assert.True(
                pod.IsShared(driverMount!.Volume),
                $"{kustomization}: {driver}: the socket's volume '{driverMount.Volume}' is not an emptyDir or hostPath"
            );
            var relative = Path.GetRelativePath(driverMount.MountPath, socket);
            var sidecars = pod.Containers.Where(c => c.Flag("--csi-address") is not null).ToList();
            Assert.NotEmpty(sidecars);
            foreach (var sidecar in sidecars)
            {
                var address = sidecar.Flag("--csi-address")!;
                var path = address.StartsWith("unix://", StringComparison.Ordinal)
                    ? address["unix://".Length..]
                    : address;
                var mount = sidecar.MountHolding(path);
                Assert.True(
                    mount is not null
                        && mount.Volume == driverMount.Volume
                        && Path.GetRelativePath(mount.MountPath, path) == relative,
                    $"{kustomization}: {sidecar}: --csi-address {address} is not the driver's socket (volume '{driverMount.Volume}', {relative})"
                );
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_kubelet_registration_path_is_the_node_socket_on_the_host(string kustomization)
    {
        var objects = await _renders.GetAsync(kustomization);
        var nodePods = PodView.All(objects).Where(p => p.Owner.Kind == "DaemonSet").ToList();
        Assert.NotEmpty(nodePods);
        var driverName = Assert.Single(objects, o => o.Kind == "CSIDriver").Name;
        foreach (var pod in nodePods)
        {
            var driver = Assert.Single(pod.Containers, IsDriver);
            var socket = SocketPath(driver);
            var mount = driver.MountHolding(socket)!;
            var hostDir = pod.HostPath(mount.Volume);
            Assert.True(
                hostDir is not null,
                $"{kustomization}: {driver}: the node socket's volume '{mount.Volume}' must be a hostPath, kubelet connects to it from the host"
            );
            var onHost = Path.Combine(hostDir!, Path.GetRelativePath(mount.MountPath, socket));
            var registrar = Assert.Single(pod.Containers, c => c.ImageName == "csi-node-driver-registrar");
            var registered = registrar.Flag("--kubelet-registration-path");
            Assert.True(
                registered == onHost,
                $"{kustomization}: {registrar}: --kubelet-registration-path is {registered ?? "missing"}, but the driver's socket is {onHost} on the host"
            );
            Assert.StartsWith($"{KubeletDir}/plugins/{driverName}/", onHost);
            var registration = registrar.Mounts.Single(m => m.MountPath == "/registration");
            Assert.Equal($"{KubeletDir}/plugins_registry", pod.HostPath(registration.Volume));
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Every_image_is_pinned_to_a_version_or_digest(string kustomization)
    {
        var objects = await _renders.GetAsync(kustomization);
        foreach (var container in PodView.All(objects).SelectMany(p => p.Containers))
        {
            var image = container.Image;
            if (image.Contains("@sha256:", StringComparison.Ordinal))
            {
                continue;
            }
            var lastSlash = image.LastIndexOf('/');
            var colon = image.LastIndexOf(':');
            var tag = colon > lastSlash ? image[(colon + 1)..] : "";
            Assert.True(
                tag.Length > 0 && tag != "latest" && char.IsAsciiDigit(tag.TrimStart('v')[0]),
                $"{kustomization}: {container}: image '{image}' is not pinned to a version tag or a digest"
            );
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Mounts_of_data_and_the_kubelet_dir_propagate_as_the_design_needs(string kustomization)
    {
        var objects = await _renders.GetAsync(kustomization);
        var checkedMounts = 0;
        foreach (var container in PodView.All(objects).SelectMany(p => p.Containers))
        {
            foreach (var mount in container.Mounts)
            {
                var host = container.Pod.HostPath(mount.Volume);
                var where = $"{kustomization}: {container}: mount of {host} at {mount.MountPath}";
                if (host == KubeletDir || mount.MountPath == KubeletDir)
                {
                    // The bind mounts made at target paths must reach the host, or the pod sees an empty directory.
                    Assert.True(
                        mount.Propagation == "Bidirectional",
                        $"{where} must be Bidirectional, is {mount.Propagation ?? "None"}"
                    );
                }
                else if (host == DataRoot || mount.MountPath == DataRoot)
                {
                    Assert.True(
                        mount.Propagation is "Bidirectional" or "HostToContainer",
                        $"{where}: with no propagation, datasets mounted later (and a re-made SSHFS mount) never show up here"
                    );
                    // Whoever mounts there (zfs create, zpool import, the plugin's own sshfs) must let the host see it.
                    var mountsThere =
                        container.Pod.Owner.Kind == "Deployment" && (IsDriver(container) || IsBootstrap(container))
                        || (IsDriver(container) && container.Flag("--sshfs-remote") is not null);
                    Assert.True(
                        !mountsThere || mount.Propagation == "Bidirectional",
                        $"{where} must be Bidirectional: this container mounts there"
                    );
                }
                else
                {
                    continue;
                }
                // The API server refuses Bidirectional in a container that is not privileged.
                Assert.True(
                    mount.Propagation != "Bidirectional" || container.Privileged,
                    $"{where}: Bidirectional needs a privileged container"
                );
                checkedMounts++;
            }
        }
        Assert.True(
            checkedMounts >= 4,
            $"{kustomization}: expected mounts of /data and the kubelet dir to check, found {checkedMounts}"
        );
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Probes_never_restart_the_controller_during_a_rebuild_and_wait_for_the_pool_to_be_ready(
        string kustomization
    )
    {
        var objects = await _renders.GetAsync(kustomization);
        var controller = PodView.All(objects).Single(p => p.Owner.Kind == "Deployment");
        var driver = Assert.Single(controller.Containers, IsDriver);
        var bootstrap = Assert.Single(controller.Containers, IsBootstrap);

        // Readiness and liveness come from the driver's own HTTP endpoints, which know about the bootstrap.
        var port = driver.Flag("--health-port");
        Assert.True(port is not null and not "0", $"{kustomization}: {driver}: --health-port is needed for the probes");
        Assert.Equal("0.0.0.0", driver.Flag("--health-address"));
        var readiness = driver.HttpProbe("readinessProbe");
        var liveness = driver.HttpProbe("livenessProbe");
        Assert.True(
            readiness is { Path: "/readyz" } && driver.ResolvePort(readiness.Value.Port)?.ToString() == port,
            $"{kustomization}: {driver}: readiness must be /readyz on port {port}"
        );
        Assert.True(
            liveness is { Path: "/healthz" } && driver.ResolvePort(liveness.Value.Port)?.ToString() == port,
            $"{kustomization}: {driver}: liveness must be /healthz on port {port}"
        );

        // No liveness probe anywhere may ask the CSI Probe (livenessprobe sidecar): it fails for the whole of a rebuild.
        foreach (var pod in PodView.All(objects))
        {
            var probePorts = pod
                .Containers.Where(c => c.ImageName == "livenessprobe")
                .Select(c =>
                    c.Flag("--http-endpoint") is { } e
                        ? e[(e.LastIndexOf(':') + 1)..]
                        : c.Flag("--health-port") ?? "9808"
                )
                .ToHashSet();
            foreach (var container in pod.Containers)
            {
                var probe = container.HttpProbe("livenessProbe");
                Assert.False(
                    probe is not null && probePorts.Contains(container.ResolvePort(probe.Value.Port)?.ToString() ?? ""),
                    $"{kustomization}: {container}: its liveness probe asks the CSI Probe through livenessprobe, which answers 500 while the pool is not ready"
                );
            }
        }

        // The driver reads the status file the bootstrap writes, through a volume both mount.
        var statusFile = driver.Flag("--bootstrap-status-file");
        Assert.False(
            string.IsNullOrEmpty(statusFile),
            $"{kustomization}: {driver}: --bootstrap-status-file is needed, or the driver reports ready before the pool is imported"
        );
        Assert.Equal("watch", bootstrap.Args.FirstOrDefault());
        var written = bootstrap.Flag("--status-file");
        Assert.NotNull(written);
        var driverMount = driver.MountHolding(statusFile!)!;
        var bootstrapMount = bootstrap.MountHolding(written!);
        Assert.True(
            bootstrapMount is not null
                && bootstrapMount.Volume == driverMount.Volume
                && Path.GetRelativePath(driverMount.MountPath, statusFile!)
                    == Path.GetRelativePath(bootstrapMount.MountPath, written!),
            $"{kustomization}: the driver reads {statusFile} but the bootstrap writes {written} elsewhere"
        );
        // The bootstrap's own liveness asks `zfs-csi-bootstrap alive` about the same status file: it
        // fails only on a step whose heartbeat stopped, never during a build that makes progress.
        var alive = Yaml.Strings(Yaml.Map(Yaml.Map(bootstrap.Node, "livenessProbe"), "exec"), "command").ToList();
        Assert.True(
            alive.Count >= 2 && alive[1] == "alive" && alive.Contains($"--status-file={written}"),
            $"{kustomization}: {bootstrap}: its liveness probe must be `zfs-csi-bootstrap alive --status-file={written}`, is `{string.Join(' ', alive)}`"
        );

        // One machine-wide mount lock for the driver and the bootstrap's zpool import, on the host.
        var lockFile = MountLockFile(driver);
        Assert.Equal(lockFile, bootstrap.Flag("--mount-lock-file"));
        var lockMount = driver.MountHolding(lockFile)!;
        Assert.Equal("/run/lock", controller.HostPath(lockMount.Volume));
        Assert.Equal(lockMount.Volume, bootstrap.MountHolding(lockFile)?.Volume);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task The_group_snapshot_gate_is_on_the_snapshotter_exactly_when_a_group_snapshot_class_exists(
        string kustomization
    )
    {
        var objects = await _renders.GetAsync(kustomization);
        var containers = PodView.All(objects).SelectMany(p => p.Containers).ToList();
        var gated = containers
            .Where(c => c.Args.Any(a => a.Contains("CSIVolumeGroupSnapshot=true", StringComparison.Ordinal)))
            .ToList();
        Assert.All(gated, c => Assert.Equal("csi-snapshotter", c.ImageName));
        Assert.Equal(objects.Any(o => o.Kind == "VolumeGroupSnapshotClass"), gated.Count == 1);
    }
}
