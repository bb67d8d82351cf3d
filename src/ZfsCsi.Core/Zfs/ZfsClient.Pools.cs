namespace ZfsCsi.Core.Zfs;

public sealed partial class ZfsClient
{
    /// <summary>
    /// Fragmentation of every imported pool (0..1; null where zpool prints "-"), or null when the
    /// listing fails: zfs-fuse has no such property, and a number that cannot be read is left out
    /// of the metrics rather than failing the collection that also reads health and space.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, double?>?> TryGetPoolFragmentationAsync(CancellationToken ct)
    {
        var result = await runner
            .RunAsync(
                new Exec.CommandLine(options.ZpoolCommand, ZfsArgs.PoolFragmentation()),
                options.CommandTimeout,
                ct
            )
            .ConfigureAwait(false);
        return result.Succeeded ? ZfsParser.ParsePoolFragmentation(result.StandardOutput) : null;
    }

    /// <summary>
    /// Whether <paramref name="pool"/> can use a feature (zpool-features(7)): true when it is
    /// <c>enabled</c> or <c>active</c>; false when disabled, or when the pool has no feature
    /// flags at all (zfs-fuse: pool version 23, its zpool knows no feature@ properties).
    /// </summary>
    public async Task<bool> PoolFeatureAsync(DatasetName pool, string feature, CancellationToken ct)
    {
        var command = new Exec.CommandLine(options.ZpoolCommand, ZfsArgs.PoolFeature(pool, feature));
        var result = await runner.RunAsync(command, options.CommandTimeout, ct).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return ZfsParser.ParseFeatureState(result.StandardOutput) is "enabled" or "active";
        }
        var classified = ZfsErrors.Classify(command, result);
        // zfs-fuse: "bad property list: invalid property '-H'" (its zpool get has no -H, its pools no features).
        return classified is ZfsInvalidArgumentException ? false : throw classified;
    }
}
