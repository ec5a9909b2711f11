using System.Buffers.Text;
using System.Security.Cryptography;

namespace Coffer.Crypto;

/// <summary>
/// Shamir's secret sharing over GF(2^8) (Shamir 1979; field of FIPS-197 4.2), byte by byte: the
/// master key's <c>shamir</c> seal (docs/design.md, "Key hierarchy").
/// </summary>
/// <remarks>
/// <para>
/// A share is text an operator can copy, paste and read aloud (docs/formats.md, "Shamir share"):
/// <c>"coffer-share-v1-" + base64url(set(4) || x(1) || threshold(1) || y(n) || check(4))</c>, where
/// <c>set</c> is random per split (so shares of two splits are told apart), <c>x</c> the share
/// number 1..255, <c>y</c> the polynomials evaluated at x, and <c>check</c> the first 4 bytes of
/// SHA-256 over the bytes before it (catches typos; not a MAC: whether the result is the right
/// master key is proven by the check value, <see cref="MasterKey.MatchesCheckValue"/>).
/// </para>
/// <para>
/// Any <c>threshold</c> shares reveal the secret; fewer reveal nothing about it (each byte's
/// polynomial has threshold-1 uniformly random coefficients from the CSPRNG). The arithmetic on
/// secret values is constant-time (<see cref="Gf256"/>); share numbers are public.
/// </para>
/// </remarks>
public static class Shamir
{
    public const string SharePrefix = "coffer-share-v1-";

    private const int SetIdLength = 4;
    private const int XOffset = SetIdLength;
    private const int ThresholdOffset = XOffset + 1;
    private const int YOffset = ThresholdOffset + 1;
    private const int ChecksumLength = 4;
    private const int Overhead = YOffset + ChecksumLength;

    /// <summary>Longest secret accepted; the master key is 32 bytes.</summary>
    public const int MaxSecretLength = 1024;

    /// <summary>Splits <paramref name="secret"/> into <paramref name="shares"/> shares (1..255), any
    /// <paramref name="threshold"/> (1..shares) of which rebuild it.</summary>
    public static IReadOnlyList<string> Split(ReadOnlySpan<byte> secret, int shares, int threshold)
    {
        if (secret.IsEmpty || secret.Length > MaxSecretLength)
        {
            throw new ArgumentException("The secret must be 1 to 1024 bytes long.", nameof(secret));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(shares, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shares, byte.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(threshold, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threshold, shares);

        var length = secret.Length;
        // Row j holds coefficient j of every byte's polynomial: row 0 is the secret, rows 1.. random.
        var coefficients = GC.AllocateArray<byte>(threshold * length, pinned: true);
        var share = GC.AllocateArray<byte>(Overhead + length, pinned: true);
        Span<byte> setId = stackalloc byte[SetIdLength];
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        try
        {
            secret.CopyTo(coefficients);
            RandomNumberGenerator.Fill(coefficients.AsSpan(length));
            RandomNumberGenerator.Fill(setId);

            var result = new string[shares];
            for (var s = 0; s < shares; s++)
            {
                var x = (byte)(s + 1);
                setId.CopyTo(share);
                share[XOffset] = x;
                share[ThresholdOffset] = (byte)threshold;
                for (var i = 0; i < length; i++)
                {
                    // Horner's rule from the highest coefficient down.
                    var y = coefficients[((threshold - 1) * length) + i];
                    for (var j = threshold - 2; j >= 0; j--)
                    {
                        y = (byte)(Gf256.Multiply(y, x) ^ coefficients[(j * length) + i]);
                    }

                    share[YOffset + i] = y;
                }

                var body = share.AsSpan(0, YOffset + length);
                SHA256.HashData(body, digest);
                digest[..ChecksumLength].CopyTo(share.AsSpan(YOffset + length));
                result[s] = SharePrefix + Base64Url.EncodeToString(share);
            }

            return result;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(coefficients);
            CryptographicOperations.ZeroMemory(share);
            CryptographicOperations.ZeroMemory(digest);
        }
    }

    /// <summary>Rebuilds the secret from at least threshold shares of one split. The caller zeroes
    /// the result.</summary>
    /// <exception cref="CryptoException">A share is malformed or mistyped, two shares carry the same
    /// number, the shares come from different splits, or there are fewer than the threshold.</exception>
    public static byte[] Combine(IReadOnlyList<string> shares)
    {
        ArgumentNullException.ThrowIfNull(shares);
        if (shares.Count == 0)
        {
            throw new CryptoException("No shares were given.");
        }

        var decoded = new byte[shares.Count][];
        try
        {
            for (var i = 0; i < shares.Count; i++)
            {
                decoded[i] = Decode(shares[i], i + 1);
            }

            var first = decoded[0];
            var threshold = first[ThresholdOffset];
            for (var i = 1; i < decoded.Length; i++)
            {
                var share = decoded[i];
                if (share.Length != first.Length
                    || share[ThresholdOffset] != threshold
                    || !share.AsSpan(0, SetIdLength).SequenceEqual(first.AsSpan(0, SetIdLength)))
                {
                    throw new CryptoException($"Share {i + 1} does not come from the same split as share 1.");
                }

                for (var j = 0; j < i; j++)
                {
                    if (decoded[j][XOffset] == share[XOffset])
                    {
                        throw new CryptoException($"Shares {j + 1} and {i + 1} are the same share (number {share[XOffset]}).");
                    }
                }
            }

            if (decoded.Length < threshold)
            {
                throw new CryptoException($"{decoded.Length} share(s) given; this split needs {threshold}.");
            }

            return Interpolate(decoded.AsSpan(0, threshold), first.Length - Overhead);
        }
        finally
        {
            foreach (var share in decoded)
            {
                if (share is not null)
                {
                    CryptographicOperations.ZeroMemory(share);
                }
            }
        }
    }

    // Lagrange interpolation at x = 0: secret = sum_j y_j * prod_{k != j} x_k / (x_k - x_j), where
    // subtraction in GF(2^8) is XOR. The basis values depend only on the public share numbers.
    private static byte[] Interpolate(ReadOnlySpan<byte[]> shares, int length)
    {
        var secret = GC.AllocateArray<byte>(length, pinned: true);
        for (var j = 0; j < shares.Length; j++)
        {
            var xj = shares[j][XOffset];
            byte basis = 1;
            for (var k = 0; k < shares.Length; k++)
            {
                if (k != j)
                {
                    var xk = shares[k][XOffset];
                    basis = Gf256.Multiply(basis, Gf256.Divide(xk, (byte)(xk ^ xj)));
                }
            }

            var y = shares[j].AsSpan(YOffset, length);
            for (var i = 0; i < length; i++)
            {
                secret[i] ^= Gf256.Multiply(y[i], basis);
            }
        }

        return secret;
    }

    // Messages name the share by its position in the input, never by its content.
    private static byte[] Decode(string text, int position)
    {
        if (text is null)
        {
            throw new CryptoException($"Share {position} is missing.");
        }

        var trimmed = text.AsSpan().Trim();
        if (!trimmed.StartsWith(SharePrefix, StringComparison.Ordinal))
        {
            throw new CryptoException($"Share {position} does not start with \"{SharePrefix}\".");
        }

        var encoded = trimmed[SharePrefix.Length..];
        var maxLength = Base64Url.GetMaxDecodedLength(encoded.Length);
        if (maxLength < Overhead + 1 || maxLength > Overhead + MaxSecretLength)
        {
            throw new CryptoException($"Share {position} has the wrong length.");
        }

        var buffer = GC.AllocateArray<byte>(maxLength, pinned: true);
        try
        {
            int written;
            try
            {
                // TryDecodeFromChars still throws FormatException for some malformed input.
                if (!Base64Url.TryDecodeFromChars(encoded, buffer, out written))
                {
                    written = -1;
                }
            }
            catch (FormatException)
            {
                written = -1;
            }

            if (written < Overhead + 1)
            {
                throw new CryptoException($"Share {position} is not valid base64url or is too short.");
            }

            var share = GC.AllocateArray<byte>(written, pinned: true);
            buffer.AsSpan(0, written).CopyTo(share);

            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(share.AsSpan(0, written - ChecksumLength), digest);
            if (!CryptographicOperations.FixedTimeEquals(digest[..ChecksumLength], share.AsSpan(written - ChecksumLength)))
            {
                CryptographicOperations.ZeroMemory(share);
                throw new CryptoException($"Share {position} fails its checksum: check it for a typo.");
            }

            if (share[XOffset] == 0 || share[ThresholdOffset] == 0)
            {
                CryptographicOperations.ZeroMemory(share);
                throw new CryptoException($"Share {position} is malformed.");
            }

            return share;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>The share number and threshold written in a share, without checking more than its
    /// checksum (for status displays: "share 3 of a 3-of-5 split").</summary>
    public static (int Number, int Threshold) Describe(string share)
    {
        var decoded = Decode(share, 1);
        try
        {
            return (decoded[XOffset], decoded[ThresholdOffset]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decoded);
        }
    }
}
