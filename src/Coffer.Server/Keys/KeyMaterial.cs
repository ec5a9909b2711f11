using Coffer.Crypto;
using Coffer.Keys;

namespace Coffer.Server.Keys;

/// <summary>Making a key version's material in its key store's backend.</summary>
internal static class KeyMaterial
{
    /// <summary>New material in <paramref name="backend"/>, or the reference of an adopted HSM key.</summary>
    public static byte[] Make(ICryptoBackend backend, string keyId, int version, KeyUsage usage, string? hsmLabel = null) =>
        hsmLabel is null ? backend.CreateKeyMaterial(keyId, version, usage) : backend.ImportKey(hsmLabel);
}
