using Csi.V1;
using Grpc.Core;
using ZfsCsi.Core.Errors;
using ZfsCsi.Core.Volumes;
using ZfsCsi.Driver.Grpc;

namespace ZfsCsi.Driver.Services;

public sealed partial class ControllerService
{
    /// <summary>
    /// CSI spec, CreateVolume: every field is checked (name and its size, capabilities, parameters,
    /// content source, capacity range) before any lock is taken or anything is looked up, so a bad
    /// request is INVALID_ARGUMENT whatever its content source names. Mutable parameters (a
    /// VolumeAttributesClass) are applied by the same create and win over the same key in
    /// <c>parameters</c> (CSI spec, CreateVolumeRequest.mutable_parameters).
    /// </summary>
    public override async Task<CreateVolumeResponse> CreateVolume(
        CreateVolumeRequest request,
        ServerCallContext context
    )
    {
        CsiName.Validate(request.Name, "volume");
        CapabilityChecks.RequireSupported(request.VolumeCapabilities);
        var parameters = VolumeParameters.Parse(request.Parameters);
        var mutable = MutableParameters.Parse(request.MutableParameters);
        var source = ToDomain(request.VolumeContentSource);
        var range = ToDomain(request.CapacityRange);
        range.Resolve();
        // CSI spec, CreateVolumeRequest.secrets: the key of a new encrypted volume, checked here
        // with the other fields, never logged, stored only in its key file. A clone or restore
        // uses its origin's key (ZFS gives a clone none of its own): secrets are not read for it.
        var key =
            parameters.Encryption is { } encryption && source is null
                ? EncryptionKey.FromSecrets(request.Secrets, encryption.Format)
                : null;
        var view = Views.Decide(
            parameters.View,
            source,
            request.VolumeCapabilities.All(c => CapabilityChecks.IsReaderOnly(c))
        );
        var dataset = volumes.DatasetFor(request.Name);
        // The source is locked too: its DeleteSnapshot/DeleteVolume must not pass between lookup and clone.
        using var _ = AcquireAll(source is null ? [dataset.Value] : [dataset.Value, source.Id]);
        var volume =
            source is null
                ? await volumes
                    .CreateAsync(request.Name, range, parameters, mutable, key, context.CancellationToken)
                    .ConfigureAwait(false)
            : view
                ? await volumes
                    .CreateViewAsync(request.Name, range, parameters, mutable, source, context.CancellationToken)
                    .ConfigureAwait(false)
            : await volumes
                .CreateFromSourceAsync(request.Name, range, parameters, mutable, source, context.CancellationToken)
                .ConfigureAwait(false);
        return new CreateVolumeResponse { Volume = ToCsi(volume) };
    }

    /// <summary>
    /// CSI spec, ControllerModifyVolume (MODIFY_VOLUME): volume_id and mutable_parameters are
    /// REQUIRED and every key and value is checked (unknown, immutable, bad value: INVALID_ARGUMENT,
    /// which the external-resizer takes as infeasible) before the lock and the lookup; then the
    /// volume's lock (ABORTED when held) and the change, online. A volume that is not a ready one of
    /// ours (unknown, deleted, kept for its snapshots) is NOT_FOUND.
    /// </summary>
    public override async Task<ControllerModifyVolumeResponse> ControllerModifyVolume(
        ControllerModifyVolumeRequest request,
        ServerCallContext context
    )
    {
        var id = CapabilityChecks.Required(request.VolumeId, "volume_id");
        if (request.MutableParameters.Count == 0)
        {
            throw new InvalidInputException(
                "mutable_parameters is required: name the attributes to change (a VolumeAttributesClass's parameters)"
            );
        }
        var mutable = MutableParameters.Parse(request.MutableParameters);
        using var _ = locks.Acquire(id);
        await volumes.ModifyAsync(id, mutable, context.CancellationToken).ConfigureAwait(false);
        return new ControllerModifyVolumeResponse();
    }

    public override async Task<DeleteVolumeResponse> DeleteVolume(
        DeleteVolumeRequest request,
        ServerCallContext context
    )
    {
        var id = CapabilityChecks.Required(request.VolumeId, "volume_id");
        using var _ = locks.Acquire(id);
        await volumes.DeleteAsync(id, context.CancellationToken).ConfigureAwait(false);
        return new DeleteVolumeResponse();
    }

    /// <summary>CSI spec, ControllerExpandVolume: the range is checked before the lock and the lookup, so a bad one is INVALID_ARGUMENT for any id.</summary>
    public override async Task<ControllerExpandVolumeResponse> ControllerExpandVolume(
        ControllerExpandVolumeRequest request,
        ServerCallContext context
    )
    {
        var id = CapabilityChecks.Required(request.VolumeId, "volume_id");
        if (request.CapacityRange is null)
        {
            throw new InvalidInputException("capacity_range is required: say how large the volume should become");
        }
        var range = ToDomain(request.CapacityRange);
        range.Resolve();
        if (request.VolumeCapability is not null)
        {
            CapabilityChecks.RequireSupported(request.VolumeCapability);
        }
        using var _ = locks.Acquire(id);
        var capacity = await volumes.ExpandAsync(id, range, context.CancellationToken).ConfigureAwait(false);
        // The quota applies through every bind mount at once: no NodeExpandVolume step.
        return new ControllerExpandVolumeResponse { CapacityBytes = capacity, NodeExpansionRequired = false };
    }

    public override async Task<ValidateVolumeCapabilitiesResponse> ValidateVolumeCapabilities(
        ValidateVolumeCapabilitiesRequest request,
        ServerCallContext context
    )
    {
        var id = CapabilityChecks.Required(request.VolumeId, "volume_id");
        if (request.VolumeCapabilities.Count == 0)
        {
            throw new InvalidInputException("volume_capabilities is required");
        }
        var volume = await volumes.GetAsync(id, context.CancellationToken).ConfigureAwait(false);

        // CSI spec, ValidateVolumeCapabilities: unsupported capabilities are not an error;
        // "confirmed" stays unset and the message says why.
        var unsupported = request
            .VolumeCapabilities.Select(CapabilityChecks.Unsupported)
            .FirstOrDefault(w => w is not null)
            ?? (
                volume.IsView && request.VolumeCapabilities.Any(c => !CapabilityChecks.IsReaderOnly(c))
                    ? $"volume {volume.Id} is a read-only view of a snapshot: only reader-only access modes are supported"
                    : null
            );
        if (unsupported is not null)
        {
            return new ValidateVolumeCapabilitiesResponse { Message = unsupported };
        }
        try
        {
            VolumeParameters.Parse(request.Parameters);
            MutableParameters.Parse(request.MutableParameters);
        }
        catch (InvalidInputException e)
        {
            return new ValidateVolumeCapabilitiesResponse { Message = e.Message };
        }
        var confirmed = new ValidateVolumeCapabilitiesResponse.Types.Confirmed();
        confirmed.VolumeCapabilities.Add(request.VolumeCapabilities);
        confirmed.VolumeContext.Add(request.VolumeContext);
        confirmed.Parameters.Add(request.Parameters);
        confirmed.MutableParameters.Add(request.MutableParameters);
        return new ValidateVolumeCapabilitiesResponse { Confirmed = confirmed };
    }

    public override async Task<ControllerGetVolumeResponse> ControllerGetVolume(
        ControllerGetVolumeRequest request,
        ServerCallContext context
    )
    {
        var id = CapabilityChecks.Required(request.VolumeId, "volume_id");
        var volume = await volumes.GetAsync(id, context.CancellationToken).ConfigureAwait(false);
        return new ControllerGetVolumeResponse
        {
            Volume = ToCsi(volume),
            Status = new ControllerGetVolumeResponse.Types.VolumeStatus(),
        };
    }

    public override async Task<ListVolumesResponse> ListVolumes(ListVolumesRequest request, ServerCallContext context)
    {
        var page = await volumes
            .ListAsync(request.MaxEntries, request.StartingToken, context.CancellationToken)
            .ConfigureAwait(false);
        var response = new ListVolumesResponse { NextToken = page.NextToken ?? "" };
        response.Entries.Add(page.Volumes.Select(v => new ListVolumesResponse.Types.Entry { Volume = ToCsi(v) }));
        return response;
    }
}
