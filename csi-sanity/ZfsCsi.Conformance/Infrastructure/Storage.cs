namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// Looks at the storage from outside the driver, as an administrator on the storage host would,
/// to check what an RPC claims (a snapshot holds the data of its moment). Never changes anything
/// but files inside a volume. Runs on the storage host of <see cref="StorageHost.Current"/>.
/// </summary>
public static class Storage
{
    /// <summary>Where a volume's dataset is mounted on the storage host (its id is its dataset name).</summary>
    public static async Task<string> MountpointOfAsync(string volumeId)
    {
        var path = (
            await StorageHost.Current.CheckAsync("zfs", "get", "-H", "-o", "value", "mountpoint", volumeId)
        ).Trim();
        Assert.True(path.StartsWith('/'), $"volume {volumeId} has no mountpoint ({path})");
        return path;
    }

    /// <summary>One property of a volume's dataset as ZFS reports it (<c>zfs get -H -p</c>: exact numbers, 0 for a quota set to none).</summary>
    public static async Task<string> PropertyAsync(string volumeId, string property) =>
        (await StorageHost.Current.CheckAsync("zfs", "get", "-H", "-p", "-o", "value", property, volumeId)).Trim();

    /// <summary>
    /// Every property set on the volume's dataset itself (<c>zfs get -s local all</c>), one
    /// <c>name=value</c> line each, in name order: what a request could have changed on it.
    /// </summary>
    public static async Task<string> LocalPropertiesAsync(string volumeId)
    {
        var rows = (
            await StorageHost.Current.CheckAsync(
                "zfs",
                "get",
                "-H",
                "-p",
                "-s",
                "local",
                "-o",
                "property,value",
                "all",
                volumeId
            )
        ).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', rows.Select(r => r.Replace('\t', '=')).Order(StringComparer.Ordinal));
    }

    /// <summary>What the pool's datasets can hold at most: its root dataset's used + available (zfs get -p works on both backends).</summary>
    public static async Task<long> PoolUsableBytesAsync(string pool)
    {
        var values = (
            await StorageHost.Current.CheckAsync("zfs", "get", "-H", "-p", "-o", "value", "used,available", pool)
        ).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return values.Sum(long.Parse);
    }

    public static async Task WriteAsync(string volumeId, string file, string content)
    {
        var path = Path.Combine(await MountpointOfAsync(volumeId), file);
        var written = await StorageHost.Current.RunAsync("sh", ["-c", "cat > \"$1\"", "sh", path], input: content);
        Assert.True(
            written.ExitCode == 0,
            $"{StorageHost.Current.Backend}: writing {path} failed: {written.StandardError.Trim()}"
        );
    }

    /// <summary>The file's content, or null when the volume has no such file.</summary>
    public static async Task<string?> ReadAsync(string volumeId, string file)
    {
        var path = Path.Combine(await MountpointOfAsync(volumeId), file);
        var read = await StorageHost.Current.RunAsync("sh", ["-c", "[ -e \"$1\" ] || exit 3; cat \"$1\"", "sh", path]);
        return read.ExitCode switch
        {
            0 => read.StandardOutput,
            3 => null,
            _ => throw new InvalidOperationException(
                $"{StorageHost.Current.Backend}: reading {path} failed: {read.StandardError.Trim()}"
            ),
        };
    }
}
