using System.Buffers.Text;
using System.Security.Cryptography;

namespace Coffer.Crypto;

/// <summary>
/// Random identifiers and secrets, all from the OS CSPRNG (<see cref="RandomNumberGenerator"/>),
/// drawn without modulo bias (<see cref="RandomNumberGenerator.GetString"/> rejects and redraws).
/// </summary>
public static class CredentialGenerator
{
    // RFC 4648 section 6, the base32 alphabet: what the XKS spec allows in an access key id.
    private const string Base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string Base32Lower = "abcdefghijklmnopqrstuvwxyz234567";

    public const int AccessKeyIdLength = 20;
    public const int SecretAccessKeyBytes = 36;
    public const int ApiTokenBytes = 32;
    public const string ApiTokenPrefix = "coffer_";
    public const int IdRandomLength = 16;

    /// <summary>20 characters of [A-Z2-7] (100 bits): the XKS spec's access key id is 20..30 of
    /// [A-Z2-7] (Authentication).</summary>
    public static string NewAccessKeyId() => RandomNumberGenerator.GetString(Base32Upper, AccessKeyIdLength);

    /// <summary>Base64 of 36 random bytes: 48 characters of [A-Za-z0-9+/], 288 bits. The XKS spec
    /// asks for 43..64 characters of [A-Za-z0-9+/=] with at least 256 bits of entropy
    /// (Authentication); 36 bytes encode without '=' padding.</summary>
    public static string NewSecretAccessKey()
    {
        Span<byte> bytes = stackalloc byte[SecretAccessKeyBytes];
        try
        {
            RandomNumberGenerator.Fill(bytes);
            return Convert.ToBase64String(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary><c>"coffer_" + base64url(32 random bytes)</c> without padding (43 characters after the
    /// prefix, 256 bits). The prefix lets secret scanners recognise a leaked token.</summary>
    public static string NewApiToken()
    {
        Span<byte> bytes = stackalloc byte[ApiTokenBytes];
        try
        {
            RandomNumberGenerator.Fill(bytes);
            return ApiTokenPrefix + Base64Url.EncodeToString(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary><c>"whsec_" + base64url(32 random bytes)</c> without padding (256 bits): the HMAC key
    /// of a webhook endpoint, its UTF-8 bytes as they are (docs/alerts.md). The prefix lets secret
    /// scanners recognise a leaked one.</summary>
    public static string NewWebhookSecret()
    {
        Span<byte> bytes = stackalloc byte[ApiTokenBytes];
        try
        {
            RandomNumberGenerator.Fill(bytes);
            return "whsec_" + Base64Url.EncodeToString(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary><c>prefix + "_" + 16 characters of [a-z2-7]</c> (80 bits): ids of key stores, keys,
    /// credentials and tokens. Not secret; random so they reveal neither count nor order.</summary>
    public static string NewId(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return prefix + "_" + RandomNumberGenerator.GetString(Base32Lower, IdRandomLength);
    }
}
