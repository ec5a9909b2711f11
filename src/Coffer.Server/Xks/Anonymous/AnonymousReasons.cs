namespace Coffer.Server.Xks.Anonymous;

/// <summary>The audit reasons of requests refused before authentication, besides the SigV4 failure names
/// (<see cref="SigV4.SigV4Failure"/>). Fixed texts: they are part of what requests are counted under.</summary>
internal static class AnonymousReasons
{
    /// <summary>No key store is configured at the path's prefix.</summary>
    public const string UnknownPrefix = "unknown-prefix";

    /// <summary>The path is not an XKS API path at all.</summary>
    public const string NotXksPath = "not-an-xks-path";

    /// <summary>The externalKeyId in the path is longer than the XKS spec allows (128 characters).</summary>
    public const string KeyIdTooLong = "key-id-too-long";

    /// <summary>Coffer is sealed, so no signature can be checked.</summary>
    public const string Sealed = "sealed";

    /// <summary>The source spent its allowance of failures (<see cref="SourceLimits"/>).</summary>
    public const string SourceLimit = "source-limit";
}
