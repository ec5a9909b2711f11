using Coffer.Crypto;
using Coffer.Keys;

namespace Coffer.Server.Keys;

/// <summary>Making a key version's material in its key store's backend.</summary>
internal static class KeyMaterial
{
    /// <summary>New material in <paramref name="backend"/>, or the reference of an adopted HSM key.</summary>
    public static byte[] Make(ICryptoBackend backend, string keyId, int version, KeyUsage usage, string? hsmLabel = null) => backend switch
    {
        Coffer.Hsm.Pkcs11CryptoBackend hsm when hsmLabel is not null => hsm.ImportKey(hsmLabel),
        // An HSM sets CKA_ENCRYPT/CKA_DECRYPT from the usages, so the token enforces them too.
        Coffer.Hsm.IUsageAwareCryptoBackend hsm => hsm.CreateKeyMaterial(keyId, version, usage),
        _ => backend.CreateKeyMaterial(keyId, version),
    };
}
