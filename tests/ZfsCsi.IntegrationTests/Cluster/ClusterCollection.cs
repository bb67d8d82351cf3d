namespace ZfsCsi.IntegrationTests.Cluster;

/// <summary>One emulated cluster for every node test class: bringing one up costs ~10 s and three plugin processes.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
