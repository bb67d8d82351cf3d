namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// Looks at the storage from outside the driver, as an administrator on the storage host would,
/// to check what an RPC claims (a snapshot holds the data of its moment). Never changes anything
/// but files inside a volume.
/// </summary>
public static class Storage
{
    /// <summary>Where a volume's dataset is mounted on this host (its id is its dataset name).</summary>
    public static async Task<string> MountpointOfAsync(string volumeId)
    {
        var path = (await Shell.CheckAsync("zfs", "get", "-H", "-o", "value", "mountpoint", volumeId)).Trim();
        Assert.True(path.StartsWith('/'), $"volume {volumeId} has no mountpoint ({path})");
        return path;
    }

    public static async Task WriteAsync(string volumeId, string file, string content) =>
        await File.WriteAllTextAsync(Path.Combine(await MountpointOfAsync(volumeId), file), content);

    public static async Task<string?> ReadAsync(string volumeId, string file)
    {
        var path = Path.Combine(await MountpointOfAsync(volumeId), file);
        return File.Exists(path) ? await File.ReadAllTextAsync(path) : null;
    }
}
