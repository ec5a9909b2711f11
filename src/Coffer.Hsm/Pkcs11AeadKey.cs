using System.Security.Cryptography;
using Coffer.Crypto;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm;

/// <summary>
/// An AES-256-GCM key that lives in the token: every Encrypt and Decrypt is a CKM_AES_GCM call in the
/// HSM (docs/pkcs11.md, "AES-GCM in the token"). It holds no key bytes, only the object's reference.
/// </summary>
/// <remarks>
/// <para>The IV is 12 bytes from the token's RNG (C_GenerateRandom) passed in CK_GCM_PARAMS, the tag
/// 128 bits; C_Encrypt returns ciphertext || tag, which is split here. The handle is cached per module
/// generation and found again (by CKA_ID and label) after a reconnect.</para>
/// <para>Thread-safe: each call borrows its own pooled session.</para>
/// </remarks>
internal sealed class Pkcs11AeadKey : IAeadKey
{
    private readonly Pkcs11Token _token;
    private HandleCache? _handle;
    private volatile bool _disposed;

    public Pkcs11AeadKey(Pkcs11Token token, Pkcs11KeyReference reference)
    {
        _token = token;
        Reference = reference;
    }

    public Pkcs11KeyReference Reference { get; }

    /// <summary>Only for known-answer tests: a key over an object the test made (extractable, so its
    /// value is known), used through the production AES-GCM path without the attribute checks.</summary>
    internal static Pkcs11AeadKey ForTestObject(Pkcs11Token token, IObjectHandle handle) =>
        new(token, new Pkcs11KeyReference(Pkcs11KeyReference.ImportedFormat, [], "test-object"))
        {
            _handle = new HandleCache(handle, token.Generation),
        };

    /// <summary>Finds and checks the object now (CryptoException if it is missing or unusable).</summary>
    public void Resolve() => _token.Run(Handle);

    public void Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag)
    {
        CheckEncryptArguments(plaintext.Length, iv.Length, ciphertext.Length, tag.Length);
        var input = plaintext.ToArray();
        try
        {
            var (ivBytes, output) = Call(EncryptIn(input, aad.ToArray()));
            SplitEncryptOutput(ivBytes, output, input.Length, iv, ciphertext, tag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    public async ValueTask EncryptAsync(ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> aad, Memory<byte> iv, Memory<byte> ciphertext, Memory<byte> tag, CancellationToken ct = default)
    {
        CheckEncryptArguments(plaintext.Length, iv.Length, ciphertext.Length, tag.Length);
        var input = plaintext.ToArray();
        try
        {
            var (ivBytes, output) = await CallAsync(EncryptIn(input, aad.ToArray()), ct).ConfigureAwait(false);
            SplitEncryptOutput(ivBytes, output, input.Length, iv.Span, ciphertext.Span, tag.Span);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    public bool TryDecrypt(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext)
    {
        CheckDecryptArguments(ciphertext.Length, plaintext.Length);
        if (iv.Length != IAeadKey.IvSize || tag.Length != IAeadKey.TagSize)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }

        var output = Call(DecryptIn(iv.ToArray(), [.. ciphertext, .. tag], aad.ToArray()));
        return CopyDecryptOutput(output, plaintext);
    }

    public async ValueTask<bool> TryDecryptAsync(ReadOnlyMemory<byte> iv, ReadOnlyMemory<byte> ciphertext, ReadOnlyMemory<byte> tag, ReadOnlyMemory<byte> aad, Memory<byte> plaintext, CancellationToken ct = default)
    {
        CheckDecryptArguments(ciphertext.Length, plaintext.Length);
        if (iv.Length != IAeadKey.IvSize || tag.Length != IAeadKey.TagSize)
        {
            CryptographicOperations.ZeroMemory(plaintext.Span);
            return false;
        }

        var output = await CallAsync(DecryptIn(iv.ToArray(), [.. ciphertext.Span, .. tag.Span], aad.ToArray()), ct).ConfigureAwait(false);
        return CopyDecryptOutput(output, plaintext.Span);
    }

    public void Dispose() => _disposed = true;

    // Called inside Token.Run: the module generation cannot change while it runs.
    private IObjectHandle Handle(ISession session)
    {
        var generation = _token.Generation;
        var cached = _handle;
        if (cached is not null && cached.Generation == generation)
        {
            return cached.Handle;
        }

        var handle = Pkcs11Objects.FindKey(session, Reference);
        _handle = new HandleCache(handle, generation);
        return handle;
    }

    // The HSM side of an encrypt, run on a pooled session.
    private Func<ISession, (byte[] Iv, byte[] Output)> EncryptIn(byte[] input, byte[] aad) => session =>
    {
        var handle = Handle(session);
        // The token's RNG chooses the IV (NIST SP 800-38D 8.2.2, random 96-bit IVs): Coffer passes it
        // in CK_GCM_PARAMS rather than rely on modules that generate IVs themselves, which PKCS#11
        // v2.40 leaves unspecified.
        var iv = session.GenerateRandom(IAeadKey.IvSize);
        using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(iv, IAeadKey.IvSize * 8, aad, IAeadKey.TagSize * 8);
        using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
        return (iv, session.Encrypt(mechanism, handle, input));
    };

    // The HSM side of a decrypt: null when the module rejected the tag (or said it could not).
    private Func<ISession, byte[]?> DecryptIn(byte[] iv, byte[] input, byte[] aad) => session =>
    {
        var handle = Handle(session);
        using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(iv, IAeadKey.IvSize * 8, aad, IAeadKey.TagSize * 8);
        using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
        try
        {
            return session.Decrypt(mechanism, handle, input);
        }
        catch (Pkcs11Exception e) when (e.Method == "C_Decrypt" && e.RV is CKR.CKR_ENCRYPTED_DATA_INVALID or CKR.CKR_ENCRYPTED_DATA_LEN_RANGE or CKR.CKR_GENERAL_ERROR)
        {
            // SoftHSM2 2.6 answers a wrong tag with CKR_GENERAL_ERROR, a code that also means a
            // broken device; the token is asked afterwards, outside this session, which one it was.
            return null;
        }
    };

    private void CheckEncryptArguments(int plaintext, int iv, int ciphertext, int tag)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (iv != IAeadKey.IvSize)
        {
            throw new ArgumentException("The IV must be 12 bytes.", nameof(iv));
        }

        if (tag != IAeadKey.TagSize)
        {
            throw new ArgumentException("The tag must be 16 bytes.", nameof(tag));
        }

        if (ciphertext != plaintext)
        {
            throw new ArgumentException("The ciphertext must be as long as the plaintext.", nameof(ciphertext));
        }
    }

    private void CheckDecryptArguments(int ciphertext, int plaintext)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (plaintext != ciphertext)
        {
            throw new ArgumentException("The plaintext must be as long as the ciphertext.", nameof(plaintext));
        }
    }

    private static void SplitEncryptOutput(byte[] ivBytes, byte[] output, int inputLength, Span<byte> iv, Span<byte> ciphertext, Span<byte> tag)
    {
        if (ivBytes.Length != IAeadKey.IvSize || output.Length != inputLength + IAeadKey.TagSize)
        {
            throw new CryptoException($"The HSM returned {output.Length} bytes of AES-GCM output for {inputLength} bytes of plaintext.");
        }

        ivBytes.CopyTo(iv);
        output.AsSpan(0, inputLength).CopyTo(ciphertext);
        output.AsSpan(inputLength).CopyTo(tag);
    }

    private bool CopyDecryptOutput(byte[]? output, Span<byte> plaintext)
    {
        if (output is null)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            if (_token.IsTokenResponding())
            {
                return false;
            }

            throw new CryptoBackendUnavailableException("The HSM token stopped responding during C_Decrypt.");
        }

        try
        {
            if (output.Length != plaintext.Length)
            {
                CryptographicOperations.ZeroMemory(plaintext);
                throw new CryptoException($"The HSM returned {output.Length} bytes of plaintext for {plaintext.Length} bytes of ciphertext.");
            }

            output.CopyTo(plaintext);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(output);
        }
    }

    private T Call<T>(Func<ISession, T> operation)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return _token.Run(operation);
            }
            catch (Pkcs11Exception e)
            {
                ThrowUnlessWorthRetrying(e, attempt);
            }
        }
    }

    private async ValueTask<T> CallAsync<T>(Func<ISession, T> operation, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await _token.RunAsync(operation, ct).ConfigureAwait(false);
            }
            catch (Pkcs11Exception e)
            {
                ThrowUnlessWorthRetrying(e, attempt);
            }
        }
    }

    // CKR_OBJECT_HANDLE_INVALID / CKR_KEY_HANDLE_INVALID: the object was destroyed, or the token lost
    // it (SoftHSM2 answers so when its token directory disappears). Ask the token: if it does not
    // respond, that is an outage; if it does, find the object again once.
    private void ThrowUnlessWorthRetrying(Pkcs11Exception e, int attempt)
    {
        if (e.RV is not (CKR.CKR_OBJECT_HANDLE_INVALID or CKR.CKR_KEY_HANDLE_INVALID))
        {
            throw new CryptoException($"The HSM refused the operation with key '{Reference.Label}': {Pkcs11Errors.Describe(e)}.", e);
        }

        _handle = null;
        if (!_token.IsTokenResponding())
        {
            throw new CryptoBackendUnavailableException($"The HSM token is unavailable: {Pkcs11Errors.Describe(e)} and C_GetTokenInfo failed.", e);
        }

        if (attempt > 0)
        {
            throw new CryptoException($"The HSM key '{Reference.Label}' cannot be used: {Pkcs11Errors.Describe(e)}.", e);
        }
    }

    private sealed record HandleCache(IObjectHandle Handle, long Generation);
}
