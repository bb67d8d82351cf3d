using ZfsCsi.Core.Health;

namespace ZfsCsi.Core.Mount;

/// <summary>The node plugin is ready when its data root is mounted and answers (Identity.Probe).</summary>
public sealed class NodeReadiness(DataRoot dataRoot) : IReadinessCheck
{
    public async Task<Readiness> CheckAsync(CancellationToken ct)
    {
        var state = await dataRoot.ProbeAsync().ConfigureAwait(false);
        return new Readiness(state.Alive, state.Reason);
    }
}
