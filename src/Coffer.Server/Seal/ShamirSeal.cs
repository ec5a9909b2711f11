using System.Globalization;
using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Storage;

namespace Coffer.Server.Seal;

/// <summary>
/// The <c>shamir</c> seal's stored form: the shares rebuild an <em>unseal key</em>, and the master key
/// is stored sealed under it (<see cref="SettingNames.ShamirSealedMasterKey"/>, the sealed-data form of
/// docs/formats.md with purpose <see cref="SealPurpose.ShamirSeal"/>), as Vault's barrier keyring
/// sits under its unseal key. A re-split is then a new unseal key and one rewritten setting, and the
/// old shares rebuild a key that opens nothing stored (docs/master-key.md, "The seal layers").
/// </summary>
/// <remarks>A data directory from before the unseal key has no sealed master key: its shares rebuild
/// the master key itself, and keep doing so until a re-split moves it to this form.</remarks>
internal static class ShamirSeal
{
    private const string DoNotOpen = "The shares do not open this installation's master key: they belong to an earlier split or to another installation.";

    /// <summary>A new unseal key: its shares, and the settings that store <paramref name="master"/> under it.</summary>
    public static (IReadOnlyList<string> Shares, Dictionary<string, string?> Settings) Split(MasterKey master, int shares, int threshold)
    {
        using var unsealKey = MasterKey.Generate();
        var raw = master.Export();
        var unsealRaw = unsealKey.Export();
        try
        {
            var settings = new Dictionary<string, string?>
            {
                [SettingNames.ShamirShares] = shares.ToString(CultureInfo.InvariantCulture),
                [SettingNames.ShamirThreshold] = threshold.ToString(CultureInfo.InvariantCulture),
                [SettingNames.ShamirSealedMasterKey] = Convert.ToBase64String(unsealKey.Seal(SealPurpose.ShamirSeal, string.Empty, raw)),
            };
            return (Shamir.Split(unsealRaw, shares, threshold), settings);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
            CryptographicOperations.ZeroMemory(unsealRaw);
        }
    }

    /// <summary>The master key that <paramref name="secret"/>, the shares' combination, opens.</summary>
    /// <exception cref="SealStateException">It opens nothing: shares of an earlier split or of another installation.</exception>
    public static async Task<MasterKey> OpenAsync(ISystemRepository system, byte[] secret, CancellationToken ct)
    {
        var stored = await system.GetSettingAsync(SettingNames.ShamirSealedMasterKey, ct);
        if (stored is null)
        {
            // The form from before the unseal key: the shares are the master key.
            return MasterKey.FromBytes(secret);
        }

        if (secret.Length != MasterKey.Size)
        {
            throw new SealStateException(DoNotOpen);
        }

        using var unsealKey = MasterKey.FromBytes(secret);
        byte[] raw;
        try
        {
            raw = unsealKey.Open(SealPurpose.ShamirSeal, string.Empty, Convert.FromBase64String(stored));
        }
        catch (Exception e) when (e is CryptoException or FormatException)
        {
            throw new SealStateException(DoNotOpen);
        }

        try
        {
            return MasterKey.FromBytes(raw);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(raw);
        }
    }

    /// <summary>Whether this installation's shares still rebuild the master key itself (the form from before the unseal key).</summary>
    public static async Task<bool> SharesAreTheMasterKeyAsync(ISystemRepository system, CancellationToken ct) =>
        await system.GetSettingAsync(SettingNames.ShamirSealedMasterKey, ct) is null;
}
