namespace ZfsCsi.Core.Options;

/// <summary>A command-line or configuration error: the program prints it with its usage and exits with 2.</summary>
public sealed class OptionsException(string message) : Exception(message);
