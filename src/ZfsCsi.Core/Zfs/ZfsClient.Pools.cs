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
}
