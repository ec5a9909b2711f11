namespace Coffer.KeyStores;

/// <summary>
/// A logical key store: one XKS endpoint of its own, selected by its URI path prefix, with its own
/// SigV4 credentials and keys (XKS spec, "API operations": several isolated tenants on one proxy).
/// </summary>
public sealed record KeyStore(
    string Id,
    string Name,
    UriPrefix Prefix,
    DateTimeOffset CreatedAt);
