using Csi.V1;
using Grpc.Core;

namespace ZfsCsi.Conformance.Infrastructure;

/// <summary>
/// Volumes one test made, deleted (over CSI, as the CO would) when the test ends, pass or fail.
/// </summary>
public sealed class Volumes(ConformanceFixture fx) : IAsyncDisposable
{
    private readonly List<string> _ids = [];

    public async Task<Volume> CreateAsync(CreateVolumeRequest request)
    {
        var response = await fx.Controller.CreateVolumeAsync(request);
        Track(response.Volume.VolumeId);
        return response.Volume;
    }

    public Task<Volume> CreateAsync(string what, long requiredBytes = Requests.VolumeSize) =>
        CreateAsync(Requests.Create(Requests.UniqueName(what), requiredBytes));

    public void Track(string volumeId)
    {
        if (!_ids.Contains(volumeId))
        {
            _ids.Add(volumeId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        var errors = new List<string>();
        foreach (var id in Enumerable.Reverse(_ids))
        {
            try
            {
                await fx.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
            }
            catch (RpcException e)
            {
                errors.Add($"{id}: {e.StatusCode} {e.Status.Detail}");
            }
        }
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"cleanup could not delete volumes: {string.Join("; ", errors)}");
        }
    }
}
