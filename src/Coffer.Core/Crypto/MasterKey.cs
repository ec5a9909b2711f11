using System.Security.Cryptography;
using System.Text;

namespace Coffer.Crypto;

/// <summary>
/// The 256-bit root key that protects everything at rest (docs/design.md, "Key hierarchy").
/// </summary>
/// <remarks>
/// <para>
/// Sealed data (docs/formats.md, "Sealed data"):
/// <c>0x01 || nonce(12) || ciphertext || tag(16)</c>, AES-256-GCM under an HKDF-SHA256 subkey per
/// purpose (info <c>"coffer/v1/" + purpose</c>, RFC 5869), with AAD
/// <c>UTF-8("coffer/v1/" + purpose + "\0" + context)</c>. The subkey separates purposes; the AAD binds
/// each blob to its context (key id and version, credential id, ...), so storage that moves a blob
/// to another row makes it fail to open (the storage is untrusted, docs/style.md practice 3).
/// </para>
/// <para>
/// Thread-safe. The raw key lives in a pinned array; <see cref="Dispose"/> zeroes it and every
/// derived subkey, after which every member throws <see cref="ObjectDisposedException"/>.
/// </para>
/// </remarks>
public sealed class MasterKey : IDisposable
{
    public const int Size = 32;

    /// <summary>The format byte of sealed data (docs/formats.md).</summary>
    internal const byte SealFormatV1 = 0x01;
    internal const int SealNonceOffset = 1;
    internal const int SealCiphertextOffset = SealNonceOffset + IAeadKey.IvSize;

    /// <summary>Bytes that <see cref="Seal"/> adds to the plaintext: format, nonce and tag.</summary>
    public const int SealOverhead = 1 + IAeadKey.IvSize + IAeadKey.TagSize;

    private const string DomainPrefix = "coffer/v1/";

    // HKDF info of MAC keys: "coffer/v1/mac/" + purpose (DeriveMacKey).
    private const string MacInfix = "mac/";

    // The fixed plaintext of the check value. It is not secret: the check value proves only that the
    // key which sealed it is the key that opens it.
    private static ReadOnlySpan<byte> CheckPlaintext => "coffer master key check v1"u8;

    // Strict UTF-8: a lone surrogate in a context would otherwise become U+FFFD and two different
    // contexts could share one AAD.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _key;
    private readonly Dictionary<string, AesGcmKey> _subkeys = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _disposed;

    private MasterKey(byte[] pinnedKey) => _key = pinnedKey;

    /// <summary>A new random master key (CSPRNG).</summary>
    public static MasterKey Generate()
    {
        var key = GC.AllocateArray<byte>(Size, pinned: true);
        RandomNumberGenerator.Fill(key);
        return new MasterKey(key);
    }

    /// <summary>Copies <paramref name="key"/> (32 bytes) into a pinned buffer.</summary>
    public static MasterKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != Size)
        {
            throw new ArgumentException("A master key is 32 bytes.", nameof(key));
        }

        var copy = GC.AllocateArray<byte>(Size, pinned: true);
        key.CopyTo(copy);
        return new MasterKey(copy);
    }

    /// <summary>A copy of the raw key for Shamir splitting or the dev seal file; the caller zeroes it.</summary>
    public byte[] Export()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var copy = GC.AllocateArray<byte>(Size, pinned: true);
            _key.CopyTo(copy, 0);
            return copy;
        }
    }

    /// <summary>Seals data for storage; bound to purpose and context (see docs/formats.md).</summary>
    public byte[] Seal(string purpose, string context, ReadOnlySpan<byte> plaintext)
    {
        var subkey = GetSubkey(purpose);
        var aad = BuildAad(purpose, context);
        var sealedData = new byte[SealOverhead + plaintext.Length];
        var span = sealedData.AsSpan();
        span[0] = SealFormatV1;
        subkey.Encrypt(
            plaintext,
            aad,
            span.Slice(SealNonceOffset, IAeadKey.IvSize),
            span.Slice(SealCiphertextOffset, plaintext.Length),
            span[^IAeadKey.TagSize..]);
        return sealedData;
    }

    /// <summary>Opens what <see cref="Seal"/> made with the same purpose and context, else throws
    /// <see cref="CryptoException"/>. The caller zeroes the result when it is secret.</summary>
    public byte[] Open(string purpose, string context, ReadOnlySpan<byte> sealedData)
    {
        var subkey = GetSubkey(purpose);
        if (sealedData.Length < SealOverhead)
        {
            throw new CryptoException("Sealed data is too short to be valid.");
        }

        if (sealedData[0] != SealFormatV1)
        {
            throw new CryptoException("Sealed data has an unknown format byte.");
        }

        var aad = BuildAad(purpose, context);
        var length = sealedData.Length - SealOverhead;
        // Pinned: the result is usually secret (key material) and the caller zeroes it.
        var plaintext = GC.AllocateArray<byte>(length, pinned: true);
        var opened = subkey.TryDecrypt(
            sealedData.Slice(SealNonceOffset, IAeadKey.IvSize),
            sealedData.Slice(SealCiphertextOffset, length),
            sealedData[^IAeadKey.TagSize..],
            aad,
            plaintext);
        if (!opened)
        {
            throw new CryptoException(
                "Sealed data does not open: it was tampered with, sealed under another master key, or bound to another purpose or context.");
        }

        return plaintext;
    }

    /// <summary>A value stored at init that proves a reconstructed master key is the right one.</summary>
    public byte[] CreateCheckValue() => Seal(SealPurpose.MasterCheck, string.Empty, CheckPlaintext);

    /// <summary>True when <paramref name="checkValue"/> was made by <see cref="CreateCheckValue"/> under this key;
    /// false (never an exception) for any other value.</summary>
    public bool MatchesCheckValue(ReadOnlySpan<byte> checkValue)
    {
        byte[] opened;
        try
        {
            opened = Open(SealPurpose.MasterCheck, string.Empty, checkValue);
        }
        catch (CryptoException)
        {
            return false;
        }

        try
        {
            return CryptographicOperations.FixedTimeEquals(opened, CheckPlaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(opened);
        }
    }

    /// <summary>
    /// A 32-byte MAC key for <paramref name="purpose"/> (<see cref="MacPurpose"/>):
    /// <c>HKDF-SHA256(ikm = master key, salt = empty, info = UTF-8("coffer/v1/mac/" + purpose))</c>.
    /// The "mac/" infix keeps MAC keys apart from every sealing subkey (whose purposes may not start
    /// with it). The array is pinned; the caller zeroes it.
    /// </summary>
    public byte[] DeriveMacKey(string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        var info = StrictUtf8.GetBytes(DomainPrefix + MacInfix + purpose);
        var key = GC.AllocateArray<byte>(32, pinned: true);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, key, salt: default, info: info);
        }

        return key;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var subkey in _subkeys.Values)
            {
                subkey.Dispose();
            }

            _subkeys.Clear();
            CryptographicOperations.ZeroMemory(_key);
        }
    }

    // Derived once per purpose and cached (HKDF costs two HMACs; sealing is frequent at start-up
    // when every key version is opened). Under the lock so Dispose cannot zero the key mid-derivation.
    private AesGcmKey GetSubkey(string purpose)
    {
        ValidatePurpose(purpose);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_subkeys.TryGetValue(purpose, out var cached))
            {
                return cached;
            }

            Span<byte> subkey = stackalloc byte[AesGcmKey.KeySize];
            try
            {
                // RFC 5869 with an empty salt (the IKM is already uniformly random, RFC 5869 3.1);
                // the info string separates purposes and versions of this scheme.
                HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, subkey, salt: default, info: StrictUtf8.GetBytes(DomainPrefix + purpose));
                var key = new AesGcmKey(subkey);
                _subkeys.Add(purpose, key);
                return key;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(subkey);
            }
        }
    }

    private static byte[] BuildAad(string purpose, string context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return StrictUtf8.GetBytes(DomainPrefix + purpose + "\0" + context);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("The context is not valid UTF-16 text.", nameof(context), e);
        }
    }

    private static void ValidatePurpose(string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);

        // The NUL separates purpose from context in the AAD; a purpose that contains one would make
        // the split ambiguous.
        if (purpose.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A seal purpose cannot contain NUL.", nameof(purpose));
        }

        // "mac/..." info strings belong to DeriveMacKey; a seal subkey must never equal a MAC key.
        if (purpose.StartsWith(MacInfix, StringComparison.Ordinal))
        {
            throw new ArgumentException("A seal purpose cannot start with 'mac/'.", nameof(purpose));
        }
    }
}

/// <summary>The purposes under which the master key seals data; each gets its own HKDF subkey.</summary>
public static class SealPurpose
{
    public const string KeyMaterial = "key-material";
    public const string SigV4Secret = "sigv4-secret";
    public const string WebhookSecret = "webhook-secret";
    public const string MasterCheck = "master-check";

    /// <summary>The master key sealed under the Shamir seal's unseal key (docs/master-key.md, "The seal layers").</summary>
    public const string ShamirSeal = "shamir-seal";

    /// <summary>The answer of an approved call that holds a secret, kept for its requester (context: the approval id).</summary>
    public const string ApprovalResult = "approval-result";

    /// <summary>During a rekey, the next master key sealed under the one it replaces (docs/master-key.md, "coffer rekey").</summary>
    public const string MasterNext = "master-next";

    /// <summary>After a rekey's switch, the replaced master key sealed under the new one, until no row needs it.</summary>
    public const string MasterRetired = "master-retired";

    /// <summary>The audit checkpoint key, kept across rekeys: the key derived from the first master key,
    /// sealed under the current one (docs/formats.md, "Audit checkpoint").</summary>
    public const string AuditCheckpointKey = "audit-checkpoint-key";
}

/// <summary>The purposes of MAC keys derived from the master key (<see cref="MasterKey.DeriveMacKey"/>).</summary>
public static class MacPurpose
{
    /// <summary>The key of audit checkpoints (docs/formats.md, "Audit checkpoint").</summary>
    public const string AuditCheckpoint = "audit-checkpoint";
}
