using System.Buffers;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Hosting;
using Coffer.Server.KeyRing;

namespace Coffer.Server.Xks.Operations;

/// <summary>
/// XKS spec, Decrypt. Any tampering with ciphertext, IV, tag, AAD or metadata fails the GCM tag and
/// answers InvalidCiphertextException; the metadata's version picks the key version, and one that
/// can no longer decrypt (destroyed, compromised) is invalid ciphertext too (docs/design.md).
/// </summary>
internal static class Decrypt
{
    public static async ValueTask<DecryptResponse> ExecuteAsync(KeyEntry key, XksRequest request, XksListenerOptions options, DateTimeOffset now, CancellationToken ct)
    {
        RequestValidation.RequireAesGcm(request.EncryptionAlgorithm);
        var ciphertext = request.Ciphertext;
        var iv = request.InitializationVector;
        var tag = request.AuthenticationTag;
        if (ciphertext is null || iv is null || tag is null)
        {
            XksThrow.Validation("ciphertext, initializationVector and authenticationTag are required.");
        }

        if (ciphertext.Length > options.MaxPlaintextBytes)
        {
            XksThrow.Unsupported("ciphertext is larger than Coffer supports.");
        }

        RequestValidation.RequireAadWithinLimit(request.AdditionalAuthenticatedData, options.MaxAadBytes);
        if (!key.Key.Enabled)
        {
            XksThrow.InvalidState("The key is disabled.");
        }

        if ((key.Key.Usage & KeyUsage.Decrypt) == 0)
        {
            XksThrow.InvalidKeyUsage("The key does not allow DECRYPT.");
        }

        // Coffer only ever makes 12-byte IVs, 16-byte tags and format-1 metadata; anything else is not ours.
        // A version that cannot decrypt now (destroyed, awaiting destruction, Compromised on a key that
        // forbids it, not yet active) is invalid ciphertext too (docs/design.md, "XKS ciphertextMetadata").
        var metadata = request.CiphertextMetadata;
        IAeadKey? aead = null;
        if (iv.Length != IAeadKey.IvSize || tag.Length != IAeadKey.TagSize
            || metadata is null || !XksCiphertext.TryReadMetadata(metadata, out var version)
            || (aead = key.ForDecryptAt(version, now)) is null)
        {
            if (metadata is not null && XksCiphertext.TryReadMetadata(metadata, out var named) && key.Broken.Contains(named)
                && key.Lifecycles[named].CanDecryptAt(now, key.Key.CompromisedMayDecrypt))
            {
                XksThrow.Internal();
            }

            XksThrow.InvalidCiphertext("The ciphertext, initialization vector, tag or metadata is corrupted, missing or invalid.");
        }

        var userAad = request.AdditionalAuthenticatedData ?? [];
        var aadLength = XksCiphertext.AadLength(userAad.Length, metadata.Length);
        var aad = ArrayPool<byte>.Shared.Rent(aadLength);
        try
        {
            var aadMemory = aad.AsMemory(0, aadLength);
            XksCiphertext.BuildAad(userAad, metadata, aadMemory.Span);
            var plaintext = new byte[ciphertext.Length];
            if (!await aead.TryDecryptAsync(iv, ciphertext, tag, aadMemory, plaintext, ct))
            {
                XksThrow.InvalidCiphertext("The ciphertext, initialization vector, tag, AAD or metadata is corrupted or invalid.");
            }

            return new DecryptResponse(plaintext);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(aad);
        }
    }
}
