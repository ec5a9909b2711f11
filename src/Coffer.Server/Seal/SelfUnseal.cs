using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Server.Hosting;

namespace Coffer.Server.Seal;

/// <summary>
/// The seals that unseal without anyone's share: the dev seal reads its key file, the pkcs11 seal asks
/// the HSM (<see cref="Pkcs11Seal"/>). Start-up and <c>POST /sys/unseal</c> without a share (after
/// <c>coffer seal</c> or an outage) both come here, so the two cannot drift apart.
/// </summary>
internal static class SelfUnseal
{
    /// <summary>Whether <paramref name="sealKind"/> unseals without shares.</summary>
    public static bool Handles(string? sealKind) => sealKind is SealKinds.Dev or SealKinds.Pkcs11;

    /// <summary>Unseals with the master key the seal itself holds.</summary>
    /// <exception cref="SealStateException">The key cannot be had or does not match this installation.</exception>
    public static Task UnsealAsync(string sealKind, SealManager seal, CofferOptions options, CancellationToken ct) => sealKind switch
    {
        SealKinds.Dev => UnsealFromFileAsync(seal, options.ResolvedDevMasterKeyPath, ct),
        SealKinds.Pkcs11 => Pkcs11Seal.UnsealAsync(seal, seal.Pkcs11 ?? throw new SealStateException("The pkcs11 seal needs the Pkcs11 section of the configuration."), ct),
        _ => throw new SealStateException($"The '{sealKind}' seal needs unseal shares."),
    };

    private static async Task UnsealFromFileAsync(SealManager seal, string path, CancellationToken ct)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SealStateException($"The dev seal's key file '{path}' cannot be read ({e.GetType().Name}); Coffer stays sealed.");
        }

        try
        {
            if (bytes.Length != MasterKey.Size)
            {
                throw new SealStateException($"The dev seal's key file '{path}' does not hold a {MasterKey.Size}-byte key; Coffer stays sealed.");
            }

            await seal.UnsealWithAsync(MasterKey.FromBytes(bytes), ct);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}
