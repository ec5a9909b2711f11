using System.Security.Cryptography;
using System.Text;

namespace Coffer.Testing;

/// <summary>
/// What AWS KMS does with a key in an external key store, played on the test side: GenerateDataKey
/// makes a data key, encrypts it under KMS's own inner key, then has the XKS proxy encrypt that with
/// the external key (double encryption); Decrypt undoes both layers, the outer one through the proxy.
/// So a data key is readable exactly while Coffer agrees to decrypt its outer layer.
/// </summary>
public sealed class ExternalKeyStoreKms(XksClient xks, string externalKeyId)
{
    // The encryption context KMS passes as AAD to the proxy (here fixed: one "bucket").
    private static readonly byte[] Aad = Encoding.UTF8.GetBytes("{\"aws:s3:arn\":\"arn:aws:s3:::bucket/object\"}");

    private readonly byte[] _innerKey = RandomNumberGenerator.GetBytes(32);

    /// <summary>A new data key and the blob stored beside the data (what KMS returns as CiphertextBlob).</summary>
    public async Task<(byte[] DataKey, Blob Blob)> GenerateDataKeyAsync()
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var inner = new byte[dataKey.Length];
        var tag = new byte[16];
        using (var gcm = new AesGcm(_innerKey, 16))
        {
            gcm.Encrypt(nonce, dataKey, inner, tag);
        }

        var outer = await xks.MustEncryptAsync(externalKeyId, [.. nonce, .. tag, .. inner], Aad);
        return (dataKey, new Blob(outer));
    }

    /// <summary>Decrypt: the proxy's answer, and the data key when it agreed.</summary>
    public async Task<(XksResponse? Response, byte[]? DataKey)> TryDecryptAsync(Blob blob)
    {
        var response = await xks.DecryptAsync(externalKeyId, blob.Outer, Aad);
        if (response.Status != 200)
        {
            return (response, null);
        }

        var innerBlob = response.Bytes("plaintext");
        var dataKey = new byte[innerBlob.Length - 28];
        using var gcm = new AesGcm(_innerKey, 16);
        gcm.Decrypt(innerBlob.AsSpan(0, 12), innerBlob.AsSpan(28), innerBlob.AsSpan(12, 16), dataKey);
        return (response, dataKey);
    }

    public async Task<byte[]> DecryptAsync(Blob blob) =>
        (await TryDecryptAsync(blob)).DataKey ?? throw new InvalidOperationException("The XKS proxy refused to decrypt the data key.");

    /// <summary>KMS's ciphertext blob: here just the proxy's outer layer (the inner layer is inside it).</summary>
    public sealed record Blob(XksEncrypted Outer);
}
