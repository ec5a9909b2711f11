using System.Buffers;
using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Hosting;
using Coffer.Server.KeyRing;

namespace Coffer.Server.Xks.Operations;

/// <summary>
/// XKS spec, Encrypt. The AES-GCM AAD is <c>u16be(len aad) || aad || u8(len meta) || meta</c>, and
/// the metadata (<c>0x01 || u32be version</c>, docs/formats.md) names the version that encrypted.
/// </summary>
internal static class Encrypt
{
    public static async ValueTask<EncryptResponse> ExecuteAsync(KeyEntry key, XksRequest request, XksListenerOptions options, EncryptionBudgets budgets, DateTimeOffset now, CancellationToken ct)
    {
        RequestValidation.RequireAesGcm(request.EncryptionAlgorithm);
        var plaintext = request.Plaintext;
        if (plaintext is null)
        {
            XksThrow.Validation("plaintext is required.");
        }

        if (plaintext.Length > options.MaxPlaintextBytes)
        {
            XksThrow.Unsupported("plaintext is larger than Coffer supports.");
        }

        RequestValidation.RequireAadWithinLimit(request.AdditionalAuthenticatedData, options.MaxAadBytes);
        var wantsCdiv = request.CiphertextDataIntegrityValueAlgorithm is not null;
        if (wantsCdiv && request.CiphertextDataIntegrityValueAlgorithm != "SHA_256")
        {
            XksThrow.Unsupported("ciphertextDataIntegrityValueAlgorithm must be SHA_256; no other is implemented.");
        }

        if (!key.Key.Enabled)
        {
            XksThrow.InvalidState("The key is disabled.");
        }

        if ((key.Key.Usage & KeyUsage.Encrypt) == 0)
        {
            XksThrow.InvalidKeyUsage("The key does not allow ENCRYPT.");
        }

        // The CDIV is proven by a verifying decrypt, which the key's usage must allow too (XKS spec, Appendix C).
        if (wantsCdiv && (key.Key.Usage & KeyUsage.Decrypt) == 0)
        {
            XksThrow.InvalidKeyUsage("A ciphertextDataIntegrityValue needs a verifying decrypt, which the key does not allow.");
        }

        // The versions' lifecycles at this instant: not yet active, expired, deactivated, compromised
        // or awaiting destruction all mean the key cannot encrypt.
        var version = key.EncryptingVersionAt(now)
            ?? throw new XksException(XksErrorName.InvalidStateException, "The key has no active version that may encrypt.");

        var aead = key.ForEncrypt(version);
        if (aead is null)
        {
            // It may encrypt, so it should have been opened: its stored material is unusable.
            XksThrow.Internal();
        }

        // Last check before the IV is drawn: a call refused above takes nothing from the budget.
        if (!await budgets.TakeAsync(key.Key.Id, version, ct))
        {
            XksThrow.InvalidState($"The key's current version has made the {options.MaxEncryptionsPerKeyVersion} encryptions one version may make with random IVs (NIST SP 800-38D); rotate the key.");
        }

        var userAad = request.AdditionalAuthenticatedData ?? [];
        var metadata = new byte[XksCiphertext.MetadataLength];
        XksCiphertext.WriteMetadata(version, metadata);

        var aadLength = XksCiphertext.AadLength(userAad.Length, metadata.Length);
        var aad = ArrayPool<byte>.Shared.Rent(aadLength);
        try
        {
            var aadMemory = aad.AsMemory(0, aadLength);
            XksCiphertext.BuildAad(userAad, metadata, aadMemory.Span);

            var ciphertext = new byte[plaintext.Length];
            var iv = new byte[IAeadKey.IvSize];
            var tag = new byte[IAeadKey.TagSize];
            await aead.EncryptAsync(plaintext, aadMemory, iv, ciphertext, tag, ct);

            byte[]? cdiv = null;
            if (wantsCdiv)
            {
                cdiv = new byte[XksCiphertext.CdivLength];
                XksCiphertext.ComputeCdiv(userAad, metadata, iv, ciphertext, tag, cdiv);
                await VerifyByDecryptingAsync(aead, iv, ciphertext, tag, aadMemory, plaintext, ct);
            }

            return new EncryptResponse(ciphertext, iv, tag, metadata, cdiv);
        }
        catch
        {
            // Failed before anything was answered: the encryption goes back (EncryptionBudgets.Return).
            budgets.Return(key.Key.Id, version);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            ArrayPool<byte>.Shared.Return(aad);
        }
    }

    /// <summary>XKS spec, Appendix C: the CDIV is returned only if the fresh ciphertext decrypts
    /// back to the plaintext, so a fault in the key manager cannot hand AWS undecryptable data.</summary>
    private static async ValueTask VerifyByDecryptingAsync(IAeadKey aead, byte[] iv, byte[] ciphertext, byte[] tag, ReadOnlyMemory<byte> aad, byte[] plaintext, CancellationToken ct)
    {
        var check = ArrayPool<byte>.Shared.Rent(Math.Max(ciphertext.Length, 1));
        try
        {
            var memory = check.AsMemory(0, ciphertext.Length);
            if (!await aead.TryDecryptAsync(iv, ciphertext, tag, aad, memory, ct) || !CryptographicOperations.FixedTimeEquals(memory.Span, plaintext))
            {
                throw new CryptoException("The verifying decrypt of a fresh ciphertext failed.");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(check);
            ArrayPool<byte>.Shared.Return(check);
        }
    }
}
