namespace Coffer.Keys;

/// <summary>KMIP-style state of a key version (docs/design.md, Lifecycle).</summary>
public enum KeyVersionState
{
    PreActive,
    Active,
    Deactivated,
    Compromised,
    Destroyed,
}

/// <summary>
/// One version of a key's material. <see cref="Material"/> is what the crypto backend stored:
/// wrapped material for the software backend, an object reference for an HSM — never plaintext.
/// </summary>
public sealed record KeyVersion(
    string KeyId,
    int Version,
    KeyVersionState State,
    string Backend,
    byte[] Material,
    DateTimeOffset CreatedAt)
{
    /// <summary>Active versions encrypt; Active and Deactivated versions decrypt (docs/design.md).</summary>
    public bool CanEncrypt => State == KeyVersionState.Active;

    public bool CanDecrypt => State is KeyVersionState.Active or KeyVersionState.Deactivated;
}
