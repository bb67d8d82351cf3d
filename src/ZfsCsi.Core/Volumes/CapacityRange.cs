using ZfsCsi.Core.Errors;

namespace ZfsCsi.Core.Volumes;

/// <summary>
/// CSI's capacity_range (CSI spec, "CapacityRange"): at least <see cref="RequiredBytes"/>, at most
/// <see cref="LimitBytes"/>; 0 means unspecified for either.
/// </summary>
public sealed record CapacityRange(long RequiredBytes, long LimitBytes)
{
    public static readonly CapacityRange Unspecified = new(0, 0);

    public const long MiB = 1024L * 1024;
    public const long GiB = 1024L * MiB;

    /// <summary>
    /// The smallest volume made. An empty zfs-fuse dataset already references 112 KiB, so a tiny
    /// refquota fails with "out of space" (docs/zfs.md, "CLI differences"), and small requests are
    /// rounded up to this.
    /// </summary>
    public const long MinimumBytes = 1 * MiB;

    /// <summary>What a request with no capacity range gets (the spec leaves the choice to the plugin).</summary>
    public const long DefaultBytes = 1 * GiB;

    /// <summary>Checks the range and picks the size to provision.</summary>
    public long Resolve()
    {
        if (RequiredBytes < 0 || LimitBytes < 0)
        {
            throw new InvalidInputException(
                $"capacity_range has a negative value (required_bytes {RequiredBytes}, limit_bytes {LimitBytes})"
            );
        }
        if (LimitBytes > 0 && LimitBytes < RequiredBytes)
        {
            throw new InvalidInputException(
                $"capacity_range limit_bytes {LimitBytes} is below required_bytes {RequiredBytes}"
            );
        }
        var size =
            RequiredBytes > 0 ? RequiredBytes
            : LimitBytes > 0 ? Math.Min(DefaultBytes, LimitBytes)
            : DefaultBytes;
        size = Math.Max(size, MinimumBytes);
        if (LimitBytes > 0 && size > LimitBytes)
        {
            throw new CapacityOutOfRangeException(
                $"capacity_range limit_bytes {LimitBytes} is below the smallest volume this driver makes ({MinimumBytes} bytes)"
            );
        }
        return size;
    }

    /// <summary>Whether an existing volume of <paramref name="capacityBytes"/> satisfies this range (an idempotent retry).</summary>
    public bool IsSatisfiedBy(long capacityBytes) =>
        capacityBytes >= RequiredBytes && (LimitBytes == 0 || capacityBytes <= LimitBytes);
}
