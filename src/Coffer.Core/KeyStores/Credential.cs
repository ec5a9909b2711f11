namespace Coffer.KeyStores;

/// <summary>
/// A SigV4 credential of a key store. The secret is stored only sealed under the master key
/// (<see cref="Crypto.MasterKey.Seal"/> with <see cref="Crypto.SealPurpose.SigV4Secret"/> and the access key id as context); at least two live credentials per key store are
/// accepted at once so AWS KMS can rotate without downtime (XKS spec, "SigV4 Credentials Rotation").
/// </summary>
public sealed record Credential(
    string Id,
    string KeyStoreId,
    string AccessKeyId,
    byte[] SealedSecret,
    DateTimeOffset CreatedAt,
    DateTimeOffset? RevokedAt)
{
    public bool IsLive => RevokedAt is null;
}
