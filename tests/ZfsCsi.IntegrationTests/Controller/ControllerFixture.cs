using ZfsCsi.IntegrationTests.Infrastructure;

namespace ZfsCsi.IntegrationTests.Controller;

/// <summary>One controller and pool shared by the tests of a class; each test uses its own volume names.</summary>
public sealed class ControllerFixture : DriverFixture;
