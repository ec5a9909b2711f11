namespace Coffer.Server.Xks;

/// <summary>The XKS operations, named as in the spec.</summary>
public enum XksOperation
{
    None,
    GetKeyMetadata,
    Encrypt,
    Decrypt,
    GetHealthStatus,
    Unknown,
}

/// <summary>
/// Splits an XKS URI path <c>[/prefix]/kms/xks/v1/(health | keys/{externalKeyId}/{op})</c> without
/// allocating (XKS spec, "API operations"). Prefixes never contain <c>/kms/xks/v1</c> themselves
/// (<see cref="Coffer.KeyStores.UriPrefix"/>), so the first occurrence splits unambiguously.
/// </summary>
internal readonly ref struct XksRoute
{
    private const string Base = "/kms/xks/v1/";

    public XksRoute(ReadOnlySpan<char> prefix, XksOperation operation, ReadOnlySpan<char> keyId)
    {
        Prefix = prefix;
        Operation = operation;
        KeyId = keyId;
    }

    public ReadOnlySpan<char> Prefix { get; }

    /// <summary><see cref="XksOperation.None"/> when the path is not an XKS path at all.</summary>
    public XksOperation Operation { get; }

    public ReadOnlySpan<char> KeyId { get; }

    public static XksRoute Parse(ReadOnlySpan<char> path)
    {
        var at = path.IndexOf(Base, StringComparison.Ordinal);
        if (at < 0)
        {
            return default;
        }

        var prefix = path[..at];
        var rest = path[(at + Base.Length)..];
        if (rest.SequenceEqual("health"))
        {
            return new XksRoute(prefix, XksOperation.GetHealthStatus, default);
        }

        if (!rest.StartsWith("keys/"))
        {
            return default;
        }

        rest = rest["keys/".Length..];
        var slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return default;
        }

        var keyId = rest[..slash];
        var op = rest[(slash + 1)..] switch
        {
            "metadata" => XksOperation.GetKeyMetadata,
            "encrypt" => XksOperation.Encrypt,
            "decrypt" => XksOperation.Decrypt,
            var other when other.Length > 0 && !other.Contains('/') => XksOperation.Unknown,
            _ => XksOperation.None,
        };
        return new XksRoute(prefix, op, keyId);
    }
}
