using System.Text;
using Coffer.Server.Services;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Security;

namespace Coffer.Server.Seal;

/// <summary>
/// The OpenPGP public keys of the people who hold unseal shares, one per share (<c>coffer init
/// --pgp-keys</c>, <c>coffer resplit start --pgp-keys</c>): each share leaves Coffer only as an
/// ASCII-armored message to its holder, so no terminal, log or HTTP answer shows it in clear
/// (docs/master-key.md; Vault's <c>pgp_keys</c>). BouncyCastle writes RFC 4880 messages, AES-256
/// with the integrity packet (SEIPD with MDC), which every OpenPGP implementation decrypts.
/// </summary>
internal sealed class ShareHolderKeys
{
    private readonly IReadOnlyList<PgpPublicKey> _keys;

    private ShareHolderKeys(IReadOnlyList<PgpPublicKey> keys) => _keys = keys;

    /// <summary>Each holder's encryption key's fingerprint (hex), in share order.</summary>
    public IReadOnlyList<string> Fingerprints => [.. _keys.Select(k => Convert.ToHexString(k.GetFingerprint()))];

    /// <summary>Reads one armored (or binary) public key per holder; null when none were given.</summary>
    /// <exception cref="InvalidRequestException">The count is not <paramref name="shares"/>, or a key
    /// does not parse, holds no usable encryption key, or is given twice; the message names it.</exception>
    public static ShareHolderKeys? Parse(IReadOnlyList<string>? armored, int shares, DateTimeOffset now)
    {
        if (armored is null || armored.Count == 0)
        {
            return null;
        }

        if (armored.Count != shares)
        {
            throw new InvalidRequestException($"pgpKeys must hold one public key per share: {shares} shares, {armored.Count} keys.");
        }

        var keys = new List<PgpPublicKey>(armored.Count);
        for (var i = 0; i < armored.Count; i++)
        {
            var key = EncryptionKeyOf(armored[i], now, $"pgpKeys[{i}]");
            if (keys.Any(k => k.GetFingerprint().AsSpan().SequenceEqual(key.GetFingerprint())))
            {
                throw new InvalidRequestException($"pgpKeys[{i}] is the same key as an earlier one: each share goes to a different holder.");
            }

            keys.Add(key);
        }

        return new ShareHolderKeys(keys);
    }

    /// <summary>Encrypts share i to holder i and returns the armored messages.</summary>
    public IReadOnlyList<string> Encrypt(IReadOnlyList<string> shares)
    {
        if (shares.Count != _keys.Count)
        {
            throw new InvalidOperationException("One share per holder key.");
        }

        return [.. shares.Select((share, i) => EncryptTo(_keys[i], Encoding.ASCII.GetBytes(share)))];
    }

    private static string EncryptTo(PgpPublicKey key, byte[] plaintext)
    {
        var output = new MemoryStream();
        using (var armor = new ArmoredOutputStream(output))
        {
            var generator = new PgpEncryptedDataGenerator(SymmetricKeyAlgorithmTag.Aes256, withIntegrityPacket: true, new SecureRandom());
            generator.AddMethod(key);
            using var encrypted = generator.Open(armor, new byte[4096]);
            var literal = new PgpLiteralDataGenerator();
            using var data = literal.Open(encrypted, PgpLiteralData.Binary, string.Empty, plaintext.Length, DateTime.UnixEpoch);
            data.Write(plaintext);
        }

        return Encoding.ASCII.GetString(output.ToArray());
    }

    // The key a holder's certificate offers for encryption: a subkey (or primary) whose algorithm
    // encrypts, not revoked, not expired, and whose self-signature allows encryption when it says.
    private static PgpPublicKey EncryptionKeyOf(string text, DateTimeOffset now, string name)
    {
        PgpPublicKeyRingBundle bundle;
        try
        {
            using var input = PgpUtilities.GetDecoderStream(new MemoryStream(Encoding.UTF8.GetBytes(text)));
            bundle = new PgpPublicKeyRingBundle(input);
        }
        catch (Exception e) when (e is IOException or PgpException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidRequestException($"{name} is not an OpenPGP public key (export it with `gpg --armor --export <holder>`).");
        }

        var rings = bundle.GetKeyRings().ToList();
        if (rings.Count != 1)
        {
            throw new InvalidRequestException($"{name} holds {rings.Count} OpenPGP certificates; give exactly one per holder.");
        }

        var candidates = rings[0].GetPublicKeys().Where(k => k.IsEncryptionKey && !k.HasRevocation() && AllowsEncryption(k)).ToList();
        var live = candidates.Where(k => k.GetValidSeconds() == 0 || new DateTimeOffset(k.CreationTime, TimeSpan.Zero).AddSeconds(k.GetValidSeconds()) > now).ToList();
        if (live.Count == 0)
        {
            throw new InvalidRequestException(candidates.Count == 0
                ? $"{name} has no key that may encrypt (it needs an encryption subkey)."
                : $"{name}'s encryption keys have all expired.");
        }

        // The newest subkey first: the one the holder most recently made for encryption.
        return live.OrderBy(k => k.IsMasterKey).ThenByDescending(k => k.CreationTime).First();
    }

    private static bool AllowsEncryption(PgpPublicKey key)
    {
        const int encrypt = PgpKeyFlags.CanEncryptCommunications | PgpKeyFlags.CanEncryptStorage;
        var flagged = key.GetSignatures()
            .Where(s => s.HasSubpackets && s.GetHashedSubPackets().GetKeyFlags() != 0)
            .Select(s => s.GetHashedSubPackets().GetKeyFlags())
            .ToList();
        return flagged.Count == 0 || flagged.Any(f => (f & encrypt) != 0);
    }
}
