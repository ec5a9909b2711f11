namespace Coffer.Crypto;

/// <summary>
/// Where key material is generated, kept and used (docs/design.md, "Crypto backends").
/// </summary>
/// <remarks>
/// Contract: implementations are thread-safe. What <see cref="CreateKeyMaterial"/> returns is the
/// only thing the database stores for a key version: wrapped material or an HSM object reference,
/// never plaintext key material. The backend never mutates stored material it is given.
/// </remarks>
public interface ICryptoBackend : IDisposable
{
    /// <summary>Stable name stored with each key version ("software", "pkcs11").</summary>
    string Name { get; }

    /// <summary>Generates a new AES-256 key for <paramref name="keyId"/>/<paramref name="version"/>
    /// and returns its stored form.</summary>
    byte[] CreateKeyMaterial(string keyId, int version);

    /// <summary>Opens a stored version for use. Throws <see cref="CryptoException"/> when the stored
    /// form is corrupt or bound to another key or version.</summary>
    IAeadKey OpenKey(string keyId, int version, byte[] storedMaterial);

    /// <summary>A fresh key used only by the deep health check: never a customer key
    /// (XKS spec, GetHealthStatus).</summary>
    IAeadKey CreateHealthCheckKey();
}

/// <summary>
/// An AES-256-GCM key ready for the XKS hot path: 12-byte IVs, 16-byte tags.
/// </summary>
/// <remarks>
/// Contract: thread-safe; <see cref="Encrypt"/> chooses the IV itself from a CSPRNG so callers
/// cannot reuse one. <see cref="Dispose"/> zeroes the key material held in memory.
/// </remarks>
public interface IAeadKey : IDisposable
{
    public const int IvSize = 12;
    public const int TagSize = 16;

    void Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag);

    /// <summary>Returns false when the tag does not verify; <paramref name="plaintext"/> is then zeroed.</summary>
    bool TryDecrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext);
}
