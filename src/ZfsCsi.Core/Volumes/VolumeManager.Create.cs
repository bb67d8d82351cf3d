using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Zfs;

namespace ZfsCsi.Core.Volumes;

public sealed partial class VolumeManager
{
    /// <summary>How long chmod/chown of a new volume's root may take before the mount counts as hung.</summary>
    private static readonly TimeSpan RootDirectoryTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The dataset a CSI name maps to: the key for per-name locks.</summary>
    public DatasetName DatasetFor(string name) => Parent.Child(VolumeNaming.LeafFor(name));

    /// <summary>
    /// CreateVolume (CSI spec): idempotent by name. The dataset is created with its quota and every
    /// marker in one <c>zfs create</c>, in state "creating"; the finishing steps (mounted, root
    /// directory mode) run next and the state flips to "ready" last. A crash anywhere leaves nothing
    /// or a "creating" dataset that the CO's retry (same name) finishes; such a dataset is never
    /// listed or reported as a volume before that, and one that no retry comes for is destroyed by
    /// the sweep after <see cref="VolumeOptions.CreatingGrace"/>.
    /// </summary>
    public Task<Volume> CreateAsync(
        string name,
        CapacityRange range,
        VolumeParameters parameters,
        CancellationToken ct
    ) => CreateAsync(name, range, parameters, MutableParameters.None, ct);

    /// <summary>
    /// CreateVolume with mutable parameters (a VolumeAttributesClass): applied by the same <c>zfs
    /// create</c> as everything else and recorded in <see cref="Markers.Mutable"/>; a retry must give
    /// the same ones (else ALREADY_EXISTS, as for other parameters).
    /// </summary>
    public Task<Volume> CreateAsync(
        string name,
        CapacityRange range,
        VolumeParameters parameters,
        MutableParameters mutable,
        CancellationToken ct
    ) => CreateAsync(name, range, parameters, mutable, key: null, ct);

    /// <summary>
    /// CreateVolume of a volume that may be encrypted: <paramref name="key"/> (from the request's
    /// secrets) is required exactly when <paramref name="parameters"/> ask for encryption. It is
    /// written to a new key file (<see cref="KeyStore"/>) just before the one <c>zfs create</c>,
    /// which reads it through keylocation=file://; a failed create removes the file again.
    /// </summary>
    public async Task<Volume> CreateAsync(
        string name,
        CapacityRange range,
        VolumeParameters parameters,
        MutableParameters mutable,
        EncryptionKey? key,
        CancellationToken ct
    )
    {
        if ((parameters.Encryption is null) != (key is null))
        {
            throw new ArgumentException("a key is given exactly for an encrypted volume", nameof(key));
        }
        var dataset = DatasetFor(name);
        var effective = mutable.AppliedTo(parameters);
        var size = range.Resolve();
        for (var attempt = 0; ; attempt++)
        {
            var existing = await ExistingAsync(dataset, name, ct).ConfigureAwait(false);
            if (existing is not null)
            {
                CheckCompatible(existing, name, range, parameters, mutable, source: null);
                CheckSameKind(existing, name, view: false);
                if (key is not null)
                {
                    await CheckSameKeyAsync(dataset, name, key, ct).ConfigureAwait(false);
                }
                return await FinishAsync(dataset, effective, existing, ct).ConfigureAwait(false);
            }

            var pool = (await GetCapacityAsync(ct).ConfigureAwait(false)).MaximumVolumeBytes;
            if (size > pool && range == CapacityRange.Unspecified)
            {
                // No size asked for (the spec leaves it to the plugin): a pool smaller than the
                // default gets a volume as large as the pool rather than a refusal.
                size = pool;
            }
            else if (size > pool)
            {
                throw new CapacityOutOfRangeException(
                    $"a volume of {size} bytes cannot fit in pool {Parent.Pool}, which holds {pool} bytes in all"
                );
            }
            string? keyFile = null;
            var properties = CreateProperties(name, size, effective, mutable);
            if (parameters.Encryption is { } encryption)
            {
                await RequireEncryptionAsync(ct).ConfigureAwait(false);
                keyFile = options.Keys.Write(dataset, key!);
                properties.AddRange(EncryptionProperties(encryption, keyFile));
            }
            try
            {
                await zfs.CreateAsync(dataset, properties, ct).ConfigureAwait(false);
                _log.Information(
                    "Created dataset {Dataset} for volume name {VolumeName} with {CapacityBytes} bytes",
                    dataset.Value,
                    name,
                    size
                );
            }
            // Refusals that made nothing take the new key file with them. Any other failure (a
            // timeout, "created, but not mounted") may have left the dataset, which needs its key
            // file at the next boot: it stays, and the sweep removes it if no dataset names it.
            catch (DatasetExistsException) when (attempt == 0)
            {
                // Another process created it between our read and our create: read it and judge again.
                DiscardKeyFile(keyFile);
                continue;
            }
            catch (DatasetExistsException)
            {
                DiscardKeyFile(keyFile);
                throw;
            }
            catch (ZfsOutOfSpaceException e)
            {
                DiscardKeyFile(keyFile);
                throw new OutOfSpaceException(
                    $"pool {Parent.Pool} has no room for {size} more bytes: {e.StandardError.Trim()}"
                );
            }
            catch (ZfsInvalidArgumentException e) when (keyFile is not null)
            {
                // A key ZFS refused despite our checks: its message is about the key's form, never its content.
                DiscardKeyFile(keyFile);
                throw new InvalidInputException(
                    $"ZFS refused the encrypted create of {dataset} (nothing was made): {e.StandardError.Trim()}"
                );
            }
            var created = await zfs.TryGetAsync(dataset, VolumeProperties, ct).ConfigureAwait(false)
                ?? throw new FailedPreconditionException(
                    $"dataset {dataset} vanished right after it was created; retry"
                );
            return await FinishAsync(dataset, effective, created, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Native encryption needs the pool's <c>encryption</c> feature (OpenZFS 0.8 and later,
    /// zpool-features(7)); zfs-fuse's pools (version 23) have none. Asked of the pool itself, not
    /// told by a flag, and before anything is written: INVALID_ARGUMENT, as for any parameter this
    /// plugin cannot honour (CSI spec, CreateVolume errors: parameters are the plugin's to check).
    /// </summary>
    private async Task RequireEncryptionAsync(CancellationToken ct)
    {
        if (!await zfs.PoolFeatureAsync(DatasetName.Parse(Parent.Pool), "encryption", ct).ConfigureAwait(false))
        {
            throw new InvalidInputException(
                $"encryption needs OpenZFS: pool {Parent.Pool} has no usable encryption feature (zfs-fuse's pool version 23 has none; "
                    + $"on OpenZFS enable it with 'zpool set feature@encryption=enabled {Parent.Pool}'). Nothing was made; use a StorageClass without {ParameterKeys.Encryption}"
            );
        }
    }

    /// <summary>
    /// The properties that make a dataset its own encryption root (zfsprops(7)): keylocation holds
    /// the key file's path only. pbkdf2iters keeps ZFS's default.
    /// </summary>
    private static IEnumerable<KeyValuePair<string, string>> EncryptionProperties(
        EncryptionParameters encryption,
        string keyFile
    ) =>
        [
            new("encryption", encryption.Cipher),
            new("keyformat", encryption.FormatName),
            new("keylocation", KeyStore.KeyLocation(keyFile)),
        ];

    /// <summary>
    /// A retried CreateVolume of an encrypted volume must bring the key it was made with: the volume
    /// keeps its first key whatever a retry says, so a Secret changed in between would leave the
    /// user holding a key that opens nothing. ALREADY_EXISTS (CSI spec: the name exists and is
    /// not compatible with the request) when the key file holds another key; FAILED_PRECONDITION
    /// when the file its keylocation names is gone (only a backup can bring the volume back after
    /// its next reboot). Compared in constant time; neither key reaches a message or a log.
    /// </summary>
    private async Task CheckSameKeyAsync(DatasetName dataset, string name, EncryptionKey key, CancellationToken ct)
    {
        var props = await zfs.TryGetAsync(dataset, ["keylocation"], ct).ConfigureAwait(false);
        if (KeyStore.PathOf(props?.Value("keylocation")) is not { } path)
        {
            return; // not a file key: not one this driver made (the parameters' check said encrypted)
        }
        byte[] held;
        try
        {
            held = await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FailedPreconditionException(
                $"volume '{Printable.Of(name)}' exists, but its key file {path} is gone: restore it from the backup of --key-dir (without it the volume cannot be unlocked after the storage host's next reboot)"
            );
        }
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(held, key.Material))
        {
            throw new AlreadyExistsException(
                $"volume '{Printable.Of(name)}' already exists with another encryption key (the Secret's {EncryptionKey.SecretKey} changed since it was made?); it keeps the key it was made with"
            );
        }
    }

    /// <summary>Removes the key file of a create that made nothing (none for a plain volume); one that cannot be removed is left to the sweep.</summary>
    private void DiscardKeyFile(string? path)
    {
        if (path is null)
        {
            return;
        }
        try
        {
            KeyStore.Remove(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The sweep removes it later (unreferenced and older than the grace).
            _log.Warning("Cannot remove key file {KeyFile} of a failed create: {Reason}", path, e.Message);
        }
    }

    /// <summary>
    /// What already occupies a name's dataset, or null. A deleted volume of that same name, retained
    /// for its snapshots or clones, is moved aside first (<see cref="RetireAsync"/>): the name is free again.
    /// </summary>
    private async Task<DatasetProperties?> ExistingAsync(DatasetName dataset, string name, CancellationToken ct)
    {
        var existing = await zfs.TryGetAsync(dataset, VolumeProperties, ct).ConfigureAwait(false);
        if (existing is not null && IsDeletedNamesake(existing, name))
        {
            try
            {
                await RetireAsync(dataset, existing, name, ct).ConfigureAwait(false);
            }
            catch (DatasetNotFoundException)
            {
                // Gone meanwhile (destroyed by hand, or the sweep freed it): the name is free all the same.
            }
            return null;
        }
        return existing;
    }

    /// <summary>
    /// Every property of a new volume, applied atomically by the create itself. <paramref name="parameters"/>
    /// are the effective ones (the mutable ones applied); the digest is the StorageClass's.
    /// </summary>
    private static List<KeyValuePair<string, string>> CreateProperties(
        string name,
        long size,
        VolumeParameters parameters,
        MutableParameters mutable,
        ContentSource? source = null
    )
    {
        var sizeText = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var properties = new List<KeyValuePair<string, string>> { new(parameters.QuotaProperty, sizeText) };
        if (parameters.Thick)
        {
            properties.Add(new(parameters.ReservationProperty, sizeText));
        }
        properties.AddRange(parameters.ZfsProperties);
        properties.Add(new(Markers.CsiName, Markers.EncodeName(name)));
        properties.Add(new(Markers.ParametersDigest, parameters.Digest));
        properties.Add(new(Markers.State, Markers.StateCreating));
        if (!mutable.IsEmpty)
        {
            properties.Add(new(Markers.Mutable, mutable.Encode()));
        }
        if (source is not null)
        {
            properties.Add(new(Markers.Source, source.Marker));
        }
        return properties;
    }

    /// <summary>CSI spec, CreateVolume: an existing volume of that name must match the request, else ALREADY_EXISTS.</summary>
    private void CheckCompatible(
        DatasetProperties existing,
        string name,
        CapacityRange range,
        VolumeParameters parameters,
        MutableParameters mutable,
        ContentSource? source
    )
    {
        var owner = Markers.DecodeName(existing.LocalValue(Markers.CsiName));
        if (owner is null)
        {
            throw new AlreadyExistsException(
                $"dataset {existing.Name} exists but was not created by zfs-csi; it is left alone. Rename or remove it, or use another volume name"
            );
        }
        if (owner != name)
        {
            throw new AlreadyExistsException(
                $"dataset {existing.Name} belongs to another volume name ('{Printable.Of(owner)}')"
            );
        }
        if (ContentSource.FromMarker(existing.LocalValue(Markers.Source)) != source)
        {
            throw new AlreadyExistsException(
                $"volume '{Printable.Of(name)}' already exists with another content source"
            );
        }
        var capacity = CapacityOf(existing);
        if (!range.IsSatisfiedBy(capacity))
        {
            throw new AlreadyExistsException(
                $"volume '{Printable.Of(name)}' already exists with {capacity} bytes, outside the requested range (required {range.RequiredBytes}, limit {range.LimitBytes})"
            );
        }
        if (existing.LocalValue(Markers.ParametersDigest) != parameters.Digest)
        {
            throw new AlreadyExistsException(
                $"volume '{Printable.Of(name)}' already exists with other parameters (another StorageClass?)"
            );
        }
        // CSI spec, CreateVolume: OK only for a volume compatible with the mutable parameters too. The
        // volume has what the marker says (set by its create, and by every ControllerModifyVolume).
        var has = MutableParameters.Decode(existing.LocalValue(Markers.Mutable));
        if (has is null || has.CanonicalText != mutable.CanonicalText)
        {
            throw new AlreadyExistsException(
                $"volume '{Printable.Of(name)}' already exists with other mutable parameters ({has?.ToString() ?? "unreadable"}; asked for {mutable}): "
                    + "its VolumeAttributesClass changed while it was being made? Give the PVC the class it was made with; change it after it is bound"
            );
        }
        _log.Debug("Volume name {VolumeName} already has dataset {Dataset}: an idempotent retry", name, existing.Name);
    }

    /// <summary>The steps after the create; each is idempotent, and "ready" is set last.</summary>
    private async Task<Volume> FinishAsync(
        DatasetName dataset,
        VolumeParameters parameters,
        DatasetProperties props,
        CancellationToken ct,
        bool applyRoot = true
    )
    {
        if (props.LocalValue(Markers.State) == Markers.StateReady)
        {
            return ToVolume(props);
        }
        if (props.Value("mounted") != "yes")
        {
            await zfs.MountAsync(dataset, ct).ConfigureAwait(false);
        }
        var mountpoint = props.Value("mountpoint");
        if (mountpoint is null || !mountpoint.StartsWith('/'))
        {
            throw new FailedPreconditionException(
                $"dataset {dataset} has no usable mountpoint ('{mountpoint}'); the parent {Parent} must be mounted for volumes to be served"
            );
        }
        if (applyRoot)
        {
            // A restored or cloned volume keeps its source's root directory as it was.
            // chmod/chown on a wedged zfs-fuse mount or a suspended pool block in the kernel: bounded,
            // so the RPC fails (and its lock is released) instead of hanging for ever.
            try
            {
                await Mount
                    .Deadline.RunAsync(
                        $"set the root directory of {dataset}",
                        () =>
                        {
                            RootDirectory.Apply(
                                mountpoint,
                                parameters.RootMode,
                                parameters.RootUid,
                                parameters.RootGid
                            );
                            return 0;
                        },
                        RootDirectoryTimeout
                    )
                    .ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new FailedPreconditionException(
                    $"cannot set the root directory of {dataset} at {mountpoint}: {e.Message}"
                );
            }
        }
        await zfs.SetAsync(dataset, Markers.State, Markers.StateReady, ct).ConfigureAwait(false);
        return ToVolume(props) with { Mounted = true };
    }
}
