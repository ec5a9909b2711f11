using System.Security.Cryptography;
using System.Text;
using Coffer.Crypto;

namespace Coffer.Server.Seal;

/// <summary>
/// The <c>pkcs11</c> seal: the master key is stored encrypted by a non-extractable AES-256 key in
/// the HSM (found by label), so Coffer unseals itself at start and the master key is in clear only
/// in memory (docs/design.md, "Key hierarchy"; the auto-unseal of Vault's HSM seal).
/// </summary>
/// <remarks>Stored form: <c>0x01 || iv(12) || AES-GCM(master key, 32) || tag(16)</c>, AAD
/// <c>"coffer/v1/pkcs11-seal"</c>, encrypted inside the HSM (docs/formats.md).</remarks>
internal static class Pkcs11Seal
{
    public const string DefaultLabel = "coffer:seal";
    private const byte Format = 0x01;
    private static readonly byte[] Aad = Encoding.ASCII.GetBytes("coffer/v1/pkcs11-seal");

    /// <summary><c>coffer init --seal pkcs11</c>: makes (or adopts) the seal key, a new master key,
    /// and returns the root token.</summary>
    public static async Task<string> InitializeAsync(SealManager seal, ICryptoBackend hsm, string label, CancellationToken ct)
    {
        using var master = MasterKey.Generate();
        var token = await seal.InitializeWithKeyAsync(master, SealKinds.Pkcs11, Settings(hsm, label, master), ct);
        await UnsealAsync(seal, hsm, ct);
        return token;
    }

    /// <summary>The settings that store <paramref name="master"/> encrypted by the HSM key <paramref name="label"/>,
    /// which is made if the token has none (at init, and when a Shamir seal moves to this one).</summary>
    public static Dictionary<string, string> Settings(ICryptoBackend hsm, string label, MasterKey master)
    {
        using var sealKey = hsm.OpenSealKey(label, create: true);
        var raw = master.Export();
        try
        {
            var wrapped = new byte[1 + IAeadKey.IvSize + MasterKey.Size + IAeadKey.TagSize];
            wrapped[0] = Format;
            sealKey.Encrypt(raw, Aad, wrapped.AsSpan(1, IAeadKey.IvSize), wrapped.AsSpan(1 + IAeadKey.IvSize, MasterKey.Size), wrapped.AsSpan(1 + IAeadKey.IvSize + MasterKey.Size));
            return new Dictionary<string, string>
            {
                [SettingNames.Pkcs11SealLabel] = label,
                [SettingNames.Pkcs11WrappedMasterKey] = Convert.ToBase64String(wrapped),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>Decrypts the master key in the HSM and unseals. Throws <see cref="CryptoBackendUnavailableException"/>
    /// while the HSM is unreachable and <see cref="SealStateException"/> when the stored key does not open.</summary>
    public static async Task UnsealAsync(SealManager seal, ICryptoBackend hsm, CancellationToken ct)
    {
        var system = seal.Storage.System;
        var label = await system.GetSettingAsync(SettingNames.Pkcs11SealLabel, ct) ?? DefaultLabel;
        var stored = await system.GetSettingAsync(SettingNames.Pkcs11WrappedMasterKey, ct)
            ?? throw new SealStateException("The pkcs11 seal has no stored master key; was this installation initialised with --seal pkcs11?");
        var wrapped = Convert.FromBase64String(stored);
        if (wrapped.Length != 1 + IAeadKey.IvSize + MasterKey.Size + IAeadKey.TagSize || wrapped[0] != Format)
        {
            throw new SealStateException("The stored master key of the pkcs11 seal is malformed.");
        }

        using var sealKey = hsm.OpenSealKey(label, create: false);
        var raw = new byte[MasterKey.Size];
        try
        {
            if (!sealKey.TryDecrypt(wrapped.AsSpan(1, IAeadKey.IvSize), wrapped.AsSpan(1 + IAeadKey.IvSize, MasterKey.Size),
                    wrapped.AsSpan(1 + IAeadKey.IvSize + MasterKey.Size), Aad, raw))
            {
                throw new SealStateException($"The HSM key '{label}' does not open the stored master key; Coffer stays sealed.");
            }

            await seal.UnsealWithAsync(MasterKey.FromBytes(raw), ct);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }
}
