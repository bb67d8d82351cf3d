using YamlDotNet.RepresentationModel;

namespace ZfsCsi.IntegrationTests.Deploy;

/// <summary>A pod template's containers and volumes, as the manifest checks need them.</summary>
public sealed class PodView
{
    public PodView(K8sObject owner, YamlMappingNode spec)
    {
        Owner = owner;
        Containers = Yaml.Seq(spec, "initContainers")
            .Concat(Yaml.Seq(spec, "containers"))
            .Select(c => new ContainerView(this, (YamlMappingNode)c))
            .ToList();
        Volumes = Yaml.Seq(spec, "volumes")
            .Cast<YamlMappingNode>()
            .ToDictionary(v => Yaml.Str(v, "name") ?? "", v => v);
    }

    public K8sObject Owner { get; }
    public IReadOnlyList<ContainerView> Containers { get; }
    public IReadOnlyDictionary<string, YamlMappingNode> Volumes { get; }

    /// <summary>The host path behind a volume, or null when it is not a hostPath volume.</summary>
    public string? HostPath(string volume) =>
        Volumes.TryGetValue(volume, out var v) ? Yaml.Str(Yaml.Map(v, "hostPath"), "path") : null;

    /// <summary>True when the volume is one every container of the pod can share (emptyDir or hostPath).</summary>
    public bool IsShared(string volume) =>
        Volumes.TryGetValue(volume, out var v)
        && (Yaml.Map(v, "emptyDir") is not null || Yaml.Map(v, "hostPath") is not null);

    public static IEnumerable<PodView> All(IEnumerable<K8sObject> objects) =>
        objects.Where(o => o.PodSpec is not null).Select(o => new PodView(o, o.PodSpec!));
}

public sealed record Mount(string Volume, string MountPath, string? Propagation, bool ReadOnly);

public sealed class ContainerView(PodView pod, YamlMappingNode node)
{
    public PodView Pod { get; } = pod;
    public YamlMappingNode Node { get; } = node;
    public string Name => Yaml.Str(Node, "name") ?? "";
    public string Image => Yaml.Str(Node, "image") ?? "";
    public IReadOnlyList<string> Args => Yaml.Strings(Node, "command").Concat(Yaml.Strings(Node, "args")).ToList();
    public bool Privileged => Yaml.Str(Yaml.Map(Node, "securityContext"), "privileged") == "true";

    public override string ToString() => $"{Pod.Owner}, container {Name}";

    public IReadOnlyList<Mount> Mounts =>
        Yaml.Seq(Node, "volumeMounts")
            .Cast<YamlMappingNode>()
            .Select(m => new Mount(
                Yaml.Str(m, "name") ?? "",
                Yaml.Str(m, "mountPath") ?? "",
                Yaml.Str(m, "mountPropagation"),
                Yaml.Str(m, "readOnly") == "true"
            ))
            .ToList();

    /// <summary>The image's repository without registry path or tag: zfs-csi-driver, csi-provisioner ...</summary>
    public string ImageName
    {
        get
        {
            var withoutDigest = Image.Split('@')[0];
            var lastSlash = withoutDigest.LastIndexOf('/');
            var colon = withoutDigest.LastIndexOf(':');
            return (colon > lastSlash ? withoutDigest[..colon] : withoutDigest)[(lastSlash + 1)..];
        }
    }

    /// <summary>The value of --flag=value or --flag value (also -flag), else null.</summary>
    public string? Flag(string flag)
    {
        var args = Args;
        for (var i = 0; i < args.Count; i++)
        {
            foreach (var spelling in new[] { flag, flag[1..] })
            {
                if (args[i].StartsWith(spelling + "=", StringComparison.Ordinal))
                {
                    return args[i][(spelling.Length + 1)..];
                }
                if (args[i] == spelling && i + 1 < args.Count)
                {
                    return args[i + 1];
                }
            }
        }
        return null;
    }

    /// <summary>
    /// The args as the process receives them: kubelet expands $(VAR) from the container's env; a
    /// value from the downward API is replaced by a sample (a node name).
    /// </summary>
    public IReadOnlyList<string> ExpandedArgs(string sample = "yakko")
    {
        var env = Yaml.Seq(Node, "env")
            .Cast<YamlMappingNode>()
            .ToDictionary(e => Yaml.Str(e, "name") ?? "", e => Yaml.Str(e, "value") ?? sample);
        return Args.Select(a =>
                env.Aggregate(a, (s, kv) => s.Replace($"$({kv.Key})", kv.Value, StringComparison.Ordinal))
            )
            .ToList();
    }

    /// <summary>The mount whose mount path holds <paramref name="path"/> (the longest such), else null.</summary>
    public Mount? MountHolding(string path) =>
        Mounts
            .Where(m =>
                path == m.MountPath || path.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal)
            )
            .OrderByDescending(m => m.MountPath.Length)
            .FirstOrDefault();

    /// <summary>The http probe's (path, port as written) of livenessProbe/readinessProbe/startupProbe, else null.</summary>
    public (string Path, string Port)? HttpProbe(string probe)
    {
        var get = Yaml.Map(Yaml.Map(Node, probe), "httpGet");
        return get is null ? null : (Yaml.Str(get, "path") ?? "", Yaml.Str(get, "port") ?? "");
    }

    /// <summary>A probe port as a number: a number, or the name of one of this container's ports.</summary>
    public int? ResolvePort(string port) =>
        int.TryParse(port, out var n)
            ? n
            : Yaml.Seq(Node, "ports")
                .Cast<YamlMappingNode>()
                .Where(p => Yaml.Str(p, "name") == port)
                .Select(p => int.TryParse(Yaml.Str(p, "containerPort"), out var c) ? c : (int?)null)
                .FirstOrDefault();
}
