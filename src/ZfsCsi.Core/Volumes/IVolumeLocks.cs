namespace ZfsCsi.Core.Volumes;

/// <summary>
/// The per-volume operation locks the driver's services take (one key per volume id or name's
/// dataset), as background work in the Core sees them: the sweep must never destroy a half-made
/// volume while a CreateVolume retry for its name is running, so it takes the same lock, without
/// waiting, before it touches one.
/// </summary>
public interface IVolumeLocks
{
    /// <summary>The lock for <paramref name="key"/>, or null when an operation holds it now.</summary>
    IDisposable? TryAcquire(string key);
}
