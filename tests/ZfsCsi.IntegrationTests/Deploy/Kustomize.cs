using CliWrap;
using CliWrap.Buffered;
using YamlDotNet.RepresentationModel;
using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.Deploy;

/// <summary>
/// Renders a kustomization under deploy/ with <c>kubectl kustomize</c> (offline: kustomize is built
/// into kubectl) and parses the documents. The manifests are checked as kubectl would apply them,
/// patches and components included, not as the files read.
/// </summary>
public static class Kustomize
{
    private static readonly string[] KubectlCandidates = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"];

    public static async Task<IReadOnlyList<K8sObject>> RenderAsync(string relativeDirectory)
    {
        var kubectl = FindKubectl();
        var directory = Repository.PathOf(relativeDirectory);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var result = await Cli.Wrap(kubectl)
            .WithArguments(["kustomize", directory])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(timeout.Token);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"kubectl kustomize {relativeDirectory} exited {result.ExitCode}: {result.StandardError.Trim()}"
            );
        }
        var stream = new YamlStream();
        stream.Load(new StringReader(result.StandardOutput));
        return stream.Documents.Select(d => new K8sObject((YamlMappingNode)d.RootNode)).ToList();
    }

    private static string FindKubectl()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "kubectl"));
        return KubectlCandidates.Concat(onPath).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "kubectl is not installed: the deploy/ manifests are rendered with `kubectl kustomize` (offline, no cluster needed). "
                    + "Install kubectl (Debian: the kubectl package from pkgs.k8s.io, or the static binary from dl.k8s.io into /usr/local/bin) and run the tests again."
            );
    }
}
