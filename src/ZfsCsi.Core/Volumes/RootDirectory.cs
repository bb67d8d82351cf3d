using System.Runtime.InteropServices;

namespace ZfsCsi.Core.Volumes;

/// <summary>Sets a fresh volume's root directory mode and owner (StorageClass rootMode, rootUid, rootGid).</summary>
public static partial class RootDirectory
{
    public static void Apply(string path, UnixFileMode mode, int? uid, int? gid)
    {
        if (uid is not null || gid is not null)
        {
            // -1 leaves that id unchanged (chown(2)).
            if (chown(path, uid ?? -1, gid ?? -1) != 0)
            {
                throw new IOException(
                    $"chown {path} to {uid?.ToString() ?? "-"}:{gid?.ToString() ?? "-"} failed: errno {Marshal.GetLastPInvokeError()}"
                );
            }
        }
        // After chown: chown(2) clears setuid/setgid bits, and a 2775 mode must keep its setgid.
        File.SetUnixFileMode(path, mode);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chown(string path, int owner, int group);
}
