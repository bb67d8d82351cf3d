using YamlDotNet.RepresentationModel;

namespace ZfsCsi.IntegrationTests.Deploy;

/// <summary>Read-only access to one rendered Kubernetes object; a missing key reads as null.</summary>
public sealed class K8sObject(YamlMappingNode root)
{
    public YamlMappingNode Root { get; } = root;
    public string Kind => Yaml.Str(Root, "kind") ?? "";
    public string Name => Yaml.Str(Yaml.Map(Root, "metadata"), "name") ?? "";

    public override string ToString() => $"{Kind}/{Name}";

    /// <summary>The pod template's spec of a Deployment, DaemonSet or StatefulSet, else null.</summary>
    public YamlMappingNode? PodSpec =>
        Kind is "Deployment" or "DaemonSet" or "StatefulSet"
            ? Yaml.Map(Yaml.Map(Yaml.Map(Root, "spec"), "template"), "spec")
            : null;
}

/// <summary>The few YAML accessors the manifest checks need.</summary>
public static class Yaml
{
    public static YamlMappingNode? Map(YamlNode? node, string key) =>
        node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var v)
            ? v as YamlMappingNode
            : null;

    public static IEnumerable<YamlNode> Seq(YamlNode? node, string key) =>
        node is YamlMappingNode m
        && m.Children.TryGetValue(new YamlScalarNode(key), out var v)
        && v is YamlSequenceNode s
            ? s.Children
            : [];

    public static string? Str(YamlNode? node, string key) =>
        node is YamlMappingNode m && m.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s
            ? s.Value
            : null;

    public static IEnumerable<string> Strings(YamlNode? node, string key) =>
        Seq(node, key).OfType<YamlScalarNode>().Select(s => s.Value ?? "");
}
