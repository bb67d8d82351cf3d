using System.Reflection;

namespace ZfsCsi.Driver.Hosting;

public static class DriverInfo
{
    /// <summary>The CSI spec version proto/csi.proto comes from (see README).</summary>
    public const string CsiSpecVersion = "1.13.0";

    public static string Version { get; } =
        typeof(DriverInfo)
            .Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";
}
