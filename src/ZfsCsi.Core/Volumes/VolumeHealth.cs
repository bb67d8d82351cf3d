namespace ZfsCsi.Core.Volumes;

/// <summary>The CSI spec's VolumeHealthErrorType values the driver reports.</summary>
public enum HealthStatus
{
    /// <summary>Usable, but not operating optimally (a degraded pool).</summary>
    Degraded,

    /// <summary>Not accessible (dataset unmounted, pool faulted, node's /data dead).</summary>
    Inaccessible,

    /// <summary>Data loss known or strongly suspected (pool reports permanent errors).</summary>
    DataLoss,
}

/// <summary>One adverse condition: a CamelCase reason for machines, a message for people.</summary>
public sealed record HealthIssue(HealthStatus Status, string Reason, string Message);

/// <summary>A volume's health: no issues means none is known.</summary>
public sealed record VolumeHealth(VolumeId Id, IReadOnlyList<HealthIssue> Issues)
{
    public bool Healthy => Issues.Count == 0;
}

/// <summary>A page of unhealthy volumes and the token for the next one.</summary>
public sealed record VolumeHealthPage(IReadOnlyList<VolumeHealth> Entries, string? NextToken);
