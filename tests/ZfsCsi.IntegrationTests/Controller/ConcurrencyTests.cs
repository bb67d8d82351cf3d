using System.Collections.Concurrent;
using Csi.V1;
using Grpc.Core;
using static ZfsCsi.IntegrationTests.Controller.Requests;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>Kubernetes retries everything, often at once (CSI spec, "Concurrency").</summary>
public sealed class ConcurrencyTests(ControllerFixture driver) : IClassFixture<ControllerFixture>
{
    [Fact]
    public async Task A_hundred_concurrent_creates_of_fifty_names_end_with_exactly_fifty_datasets()
    {
        var prefix = Unique("pvc-race");
        var names = Enumerable.Range(0, 50).Select(i => $"{prefix}-{i:D2}").ToList();
        var aborted = 0;
        var ids = new ConcurrentDictionary<string, ConcurrentBag<string>>();

        // Like the external-provisioner: a call answered ABORTED (operation pending) is retried.
        await Task.WhenAll(
            names
                .Concat(names)
                .Select(async name =>
                {
                    while (true)
                    {
                        try
                        {
                            var response = await driver.Client.Controller.CreateVolumeAsync(Create(name, 4 * MiB));
                            ids.GetOrAdd(name, _ => []).Add(response.Volume.VolumeId);
                            return;
                        }
                        catch (RpcException e) when (e.StatusCode == StatusCode.Aborted)
                        {
                            Interlocked.Increment(ref aborted);
                            await Task.Delay(Random.Shared.Next(5, 30));
                        }
                    }
                })
        );

        var datasets = (await driver.ChildDatasetsAsync())
            .Where(d => d.Contains(prefix, StringComparison.Ordinal))
            .ToList();
        Assert.Equal(50, datasets.Count);
        Assert.All(names, n => Assert.Single(ids[n].Distinct()));
        Assert.Equal(datasets.Order(), ids.Values.Select(v => v.First()).Order());
        foreach (var d in datasets)
        {
            Assert.Equal("ready", await driver.GetPropertyAsync(d, "zfs-csi:state"));
        }
    }

    [Fact]
    public async Task Twenty_expansions_of_one_volume_at_once_end_in_ok_or_aborted_never_an_error()
    {
        var id = (await driver.Client.Controller.CreateVolumeAsync(Create(Unique("pvc-busy")))).Volume.VolumeId;
        var other = (await driver.Client.Controller.CreateVolumeAsync(Create(Unique("pvc-free")))).Volume.VolumeId;
        var outcomes = new ConcurrentBag<StatusCode>();

        // Twenty expansions of one volume at once: one holds the lock at a time, the rest are ABORTED
        // or run after it; never two at once, and never an error other than ABORTED.
        var expansions = Enumerable
            .Range(1, 20)
            .Select(async i =>
            {
                try
                {
                    await driver.Client.Controller.ControllerExpandVolumeAsync(
                        new ControllerExpandVolumeRequest
                        {
                            VolumeId = id,
                            CapacityRange = new CapacityRange { RequiredBytes = (8 + i) * MiB },
                        }
                    );
                    outcomes.Add(StatusCode.OK);
                }
                catch (RpcException e)
                {
                    outcomes.Add(e.StatusCode);
                }
            });
        var unrelated = driver
            .Client.Controller.ControllerGetVolumeAsync(new ControllerGetVolumeRequest { VolumeId = other })
            .ResponseAsync;
        await Task.WhenAll(expansions.Append(unrelated));

        Assert.Contains(StatusCode.OK, outcomes);
        Assert.All(outcomes, c =>
            Assert.True(c is StatusCode.OK or StatusCode.Aborted or StatusCode.OutOfRange, $"unexpected {c}")
        );
        Assert.Equal(other, (await unrelated).Volume.VolumeId);
    }

    [Fact]
    public async Task Two_deletes_of_one_volume_at_once_both_end_well()
    {
        var id = (await driver.Client.Controller.CreateVolumeAsync(Create(Unique("pvc-del-race")))).Volume.VolumeId;
        var results = await Task.WhenAll(
            Enumerable
                .Range(0, 2)
                .Select(async _ =>
                {
                    try
                    {
                        await driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
                        return StatusCode.OK;
                    }
                    catch (RpcException e)
                    {
                        return e.StatusCode;
                    }
                })
        );
        Assert.Contains(StatusCode.OK, results);
        Assert.All(results, c => Assert.True(c is StatusCode.OK or StatusCode.Aborted));
        await driver.Client.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
        Assert.DoesNotContain(id, await driver.ChildDatasetsAsync());
    }
}
