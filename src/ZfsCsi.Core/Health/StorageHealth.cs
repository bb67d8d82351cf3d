using ZfsCsi.Core.Bootstrap;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Exec;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Health;

/// <summary>Whether the driver can serve volumes now, and why not.</summary>
public sealed record Readiness(bool Ready, string Reason);

/// <summary>
/// The controller's view of its storage: its zfs tools of the loaded module's release (OpenZFS),
/// the pool imported and healthy enough to serve, and the parent dataset present (created when
/// the pool is there and it is not). Behind Identity.Probe and the readiness endpoint.
/// </summary>
/// <remarks>
/// <paramref name="runner"/> and <paramref name="zfsOptions"/> come from the container (both are
/// registered); without them (tests that build one by hand) the module check is left out.
/// </remarks>
public sealed class StorageHealth(
    ZfsClient zfs,
    VolumeOptions options,
    ICommandRunner? runner = null,
    ZfsOptions? zfsOptions = null
) : IReadinessCheck
{
    private readonly DatasetName _parent = options.Parent;
    private readonly ModuleVersionCheck? _module =
        runner is null || zfsOptions is null
            ? null
            : new ModuleVersionCheck(runner, zfsOptions.ZfsCommand, zfsOptions.CommandTimeout);

    /// <summary>Never throws for a storage problem: a failing or hung zfs is a reason not to be ready.</summary>
    public async Task<Readiness> CheckAsync(CancellationToken ct)
    {
        try
        {
            return await CheckOrThrowAsync(ct).ConfigureAwait(false);
        }
        catch (ZfsCsiException e)
        {
            return new Readiness(false, e.Message);
        }
    }

    private async Task<Readiness> CheckOrThrowAsync(CancellationToken ct)
    {
        if (_module is not null && await _module.CheckAsync(ct).ConfigureAwait(false) is { } mismatch)
        {
            return mismatch;
        }
        var pools = await zfs.GetPoolHealthAsync(ct).ConfigureAwait(false);
        if (!pools.TryGetValue(_parent.Pool, out var health))
        {
            return new Readiness(false, $"pool {_parent.Pool} is not imported");
        }
        if (health is not ("ONLINE" or "DEGRADED"))
        {
            return new Readiness(false, $"pool {_parent.Pool} is {health}");
        }
        // The pool may have come up after the driver (the bootstrap imported it): make the parent
        // now, as start-up would have, so the first Probe that finds the pool also serves.
        await EnsureParentAsync(ct).ConfigureAwait(false);
        return new Readiness(
            true,
            health == "DEGRADED"
                ? $"pool {_parent.Pool} is DEGRADED: serving, but replace the failed disk (zpool status {_parent.Pool})"
                : $"pool {_parent.Pool} is ONLINE"
        );
    }

    /// <summary>Creates the parent dataset (and missing ancestors) when the pool is there and it is not.</summary>
    public async Task EnsureParentAsync(CancellationToken ct)
    {
        if (await zfs.TryGetAsync(_parent, ["name"], ct).ConfigureAwait(false) is null)
        {
            await zfs.CreateWithParentsAsync(_parent, ct).ConfigureAwait(false);
        }
    }
}
