using System.Text.Json;
using System.Text.Json.Serialization;

namespace ZfsCsi.Core.Bootstrap;

/// <summary>
/// Reads and writes the bootstrap status file. Writes go to a temporary file in the same directory
/// and are renamed over the old one: rename(2) is atomic, so the driver reads either the previous
/// status or the new one, never half a file.
/// </summary>
public static class BootstrapStatusFile
{
    public const string DefaultPath = "/run/zfs-csi/bootstrap.json";

    public static void Write(string path, BootstrapStatus status)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, status, BootstrapStatusJson.Default.BootstrapStatus);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>The status, or null when there is no file yet; a file that cannot be read throws <see cref="InvalidDataException"/>.</summary>
    public static async Task<BootstrapStatus?> ReadAsync(string path, CancellationToken ct)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(text, BootstrapStatusJson.Default.BootstrapStatus)
                ?? throw new InvalidDataException($"{path} holds no status");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a bootstrap status file: {e.Message}", e);
        }
    }
}

/// <summary>
/// The status file's JSON, generated at compile time (no reflection: the native AOT driver and
/// bootstrap read and write it with this): the web defaults (camelCase, names matched without
/// case) and indented, as the file has always been written.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(BootstrapStatus))]
internal sealed partial class BootstrapStatusJson : JsonSerializerContext;
