using Coffer.Keys;

namespace Coffer.Crypto;

/// <summary>
/// Where key material is generated, kept and used (docs/design.md, "Crypto backends"). The server
/// knows a backend only through this port: what one cannot do, it refuses with a
/// <see cref="CryptoException"/> that says so.
/// </summary>
/// <remarks>
/// <para>Contract: implementations are thread-safe. What <see cref="CreateKeyMaterial"/> and
/// <see cref="ImportKey"/> return is the only thing the database stores for a key version: wrapped
/// material or an HSM object reference, never plaintext key material. The backend never mutates
/// stored material it is given.</para>
/// <para>Failures, for every member and every key it returns: <see cref="CryptoException"/> when the
/// call is wrong in itself (a corrupt or foreign reference, a missing or unsuitable object, a
/// capability this backend lacks); <see cref="CryptoBackendUnavailableException"/> when the backend
/// cannot serve now and recovers by itself, <see cref="CryptoBackendBusyException"/> when it is at
/// capacity. No message carries key material, a PIN or another secret.</para>
/// </remarks>
public interface ICryptoBackend : IDisposable
{
    /// <summary>Stable name stored with each key version ("software", "pkcs11").</summary>
    string Name { get; }

    /// <summary>Generates a new AES-256 key for <paramref name="keyId"/>/<paramref name="version"/>
    /// and returns its stored form. A backend that can enforce <paramref name="usage"/> itself sets it
    /// on the key (an HSM's CKA_ENCRYPT / CKA_DECRYPT); Coffer checks it at the XKS edge either way.</summary>
    byte[] CreateKeyMaterial(string keyId, int version, KeyUsage usage);

    /// <summary>Adopts a key that already exists in the backend, found by <paramref name="label"/>,
    /// and returns its stored form. Throws <see cref="CryptoException"/> saying why not: no such key,
    /// several, one that could leave the backend, or a backend that holds no keys of its own.</summary>
    byte[] ImportKey(string label);

    /// <summary>Opens a stored version for use. Throws <see cref="CryptoException"/> when the stored
    /// form is corrupt or bound to another key or version.</summary>
    IAeadKey OpenKey(string keyId, int version, byte[] storedMaterial);

    /// <summary>
    /// Destroys what the stored form of <paramref name="keyId"/>/<paramref name="version"/> refers to
    /// outside the database, for good (destruction after its waiting period). Idempotent:
    /// false when nothing was there to destroy — already destroyed (a sweep that stopped between this
    /// call and the database update runs it again), or a backend whose stored form is the only copy
    /// (the software backend: the storage erases the wrapped material itself).
    /// </summary>
    /// <exception cref="CryptoException">The stored form is not this backend's, or belongs to another
    /// key or version: nothing is destroyed.</exception>
    bool DestroyKeyMaterial(string keyId, int version, byte[] storedMaterial);

    /// <summary>A fresh key used only by the deep health check: never a customer key
    /// (XKS spec, GetHealthStatus).</summary>
    IAeadKey CreateHealthCheckKey();

    /// <summary>
    /// The key a seal encrypts the master key with, found by <paramref name="label"/> and made when
    /// <paramref name="create"/> and absent (<c>coffer init</c>); it never leaves the backend. Throws
    /// <see cref="CryptoException"/> when no usable key has that label (and none was to be made), or
    /// when the backend's keys depend on the master key themselves (the software backend).
    /// </summary>
    IAeadKey OpenSealKey(string label, bool create);

    /// <summary>Coffer sealed: give up any login the backend holds (an HSM closes its sessions), so
    /// nothing stays authenticated while sealed. The next call logs in again.</summary>
    void LogOut();
}

/// <summary>
/// An AES-256-GCM key ready for the XKS hot path: 12-byte IVs, 16-byte tags.
/// </summary>
/// <remarks>
/// Contract: thread-safe; <see cref="Encrypt"/> chooses the IV itself from a CSPRNG so callers
/// cannot reuse one. <see cref="IDisposable.Dispose"/> zeroes the key material held in memory. The request path
/// uses the asynchronous forms: a key in memory completes them synchronously, a key in an HSM runs
/// them on the HSM's own threads so no request thread blocks on the device.
/// </remarks>
public interface IAeadKey : IDisposable
{
    public const int IvSize = 12;
    public const int TagSize = 16;

    void Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag);

    /// <summary>Returns false when the tag does not verify; <paramref name="plaintext"/> is then zeroed.</summary>
    bool TryDecrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext);

    /// <summary>As <see cref="Encrypt"/>; the buffers must stay untouched until it completes.</summary>
    ValueTask EncryptAsync(ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> aad, Memory<byte> iv, Memory<byte> ciphertext, Memory<byte> tag, CancellationToken ct = default)
    {
        Encrypt(plaintext.Span, aad.Span, iv.Span, ciphertext.Span, tag.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>As <see cref="TryDecrypt"/>; the buffers must stay untouched until it completes.</summary>
    ValueTask<bool> TryDecryptAsync(ReadOnlyMemory<byte> iv, ReadOnlyMemory<byte> ciphertext, ReadOnlyMemory<byte> tag, ReadOnlyMemory<byte> aad, Memory<byte> plaintext, CancellationToken ct = default) =>
        ValueTask.FromResult(TryDecrypt(iv.Span, ciphertext.Span, tag.Span, aad.Span, plaintext.Span));
}
