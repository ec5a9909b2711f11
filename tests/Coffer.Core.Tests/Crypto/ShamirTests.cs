using System.Security.Cryptography;
using Coffer.Crypto;

namespace Coffer.Core.Tests.Crypto;

public sealed class ShamirTests
{
    public static TheoryData<int> Thresholds => [1, 2, 3, 4, 5];

    [Theory]
    [MemberData(nameof(Thresholds))]
    public void Every_subset_of_at_least_threshold_shares_of_5_rebuilds_the_secret(int threshold)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var shares = Shamir.Split(secret, 5, threshold);
        Assert.Equal(5, shares.Count);

        var tried = 0;
        for (var mask = 1; mask < 32; mask++)
        {
            var subset = Subset(shares, mask);
            if (subset.Count >= threshold)
            {
                Assert.Equal(secret, Shamir.Combine(subset));
                tried++;
            }
            else
            {
                var error = Assert.Throws<CryptoException>(() => Shamir.Combine(subset));
                Assert.Contains($"needs {threshold}", error.Message, StringComparison.Ordinal);
            }
        }

        // Subsets of 5 items with at least `threshold` members.
        var expected = Enumerable.Range(threshold, 6 - threshold).Sum(k => Binomial(5, k));
        Assert.Equal(expected, tried);
    }

    [Fact]
    public void Fewer_than_threshold_shares_interpolate_to_a_different_value()
    {
        // Bypass the threshold check: 2 points of a degree-2 polynomial interpolate to another
        // constant term (equal only with probability 2^-256 for a 32-byte secret).
        var secret = RandomNumberGenerator.GetBytes(32);
        var shares = Shamir.Split(secret, 5, 3);

        var guess = InterpolateAtZero([shares[0], shares[3]]);
        var rebuilt = InterpolateAtZero([shares[0], shares[3], shares[4]]);

        Assert.NotEqual(secret, guess);
        Assert.Equal(secret, rebuilt); // the interpolation below is right: threshold points give the secret
    }

    /// <summary>Lagrange interpolation at x = 0 of whatever shares are given, ignoring their threshold,
    /// read from the share layout of docs/formats.md ("Shamir share"): base64url of set(4) || x(1) ||
    /// threshold(1) || y(n) || check(4).</summary>
    private static byte[] InterpolateAtZero(string[] shares)
    {
        var points = shares.Select(s => System.Buffers.Text.Base64Url.DecodeFromChars(s.AsSpan(Shamir.SharePrefix.Length))).ToArray();
        var secret = new byte[points[0].Length - 10];
        for (var j = 0; j < points.Length; j++)
        {
            byte basis = 1;
            for (var k = 0; k < points.Length; k++)
            {
                if (k != j)
                {
                    basis = Gf256.Multiply(basis, Gf256.Divide(points[k][4], (byte)(points[k][4] ^ points[j][4])));
                }
            }

            for (var i = 0; i < secret.Length; i++)
            {
                secret[i] ^= Gf256.Multiply(points[j][6 + i], basis);
            }
        }

        return secret;
    }

    [Fact]
    public void One_of_one_split_rebuilds_the_secret()
    {
        var secret = RandomNumberGenerator.GetBytes(32);

        var shares = Shamir.Split(secret, 1, 1);

        Assert.Single(shares);
        Assert.Equal(secret, Shamir.Combine(shares));
    }

    [Fact]
    public void Split_and_Combine_work_at_255_shares()
    {
        var secret = RandomNumberGenerator.GetBytes(32);

        var shares = Shamir.Split(secret, 255, 255);

        Assert.Equal(255, shares.Count);
        Assert.Equal(secret, Shamir.Combine(shares.Reverse().ToList()));
    }

    [Fact]
    public void Shares_are_self_describing_text()
    {
        var shares = Shamir.Split(new byte[32], 5, 3);

        for (var i = 0; i < shares.Count; i++)
        {
            Assert.StartsWith("coffer-share-v1-", shares[i], StringComparison.Ordinal);
            Assert.Matches("^coffer-share-v1-[A-Za-z0-9_-]+$", shares[i]);
            Assert.Equal((i + 1, 3), Shamir.Describe(shares[i]));
        }
    }

    [Fact]
    public void Shares_of_a_zero_secret_do_not_reveal_it()
    {
        // With threshold > 1 the y values are random; a share must not carry the secret bytes.
        var shares = Shamir.Split(new byte[32], 3, 2);

        foreach (var share in shares)
        {
            var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(share.AsSpan("coffer-share-v1-".Length));
            Assert.NotEqual(new byte[32], bytes.AsSpan(6, 32).ToArray());
        }
    }

    [Fact]
    public void A_typo_anywhere_in_a_share_is_caught()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var shares = Shamir.Split(secret, 3, 2);
        var share = shares[0];

        for (var i = 0; i < share.Length; i++)
        {
            var replacement = share[i] == 'A' ? 'B' : 'A';
            var typo = string.Concat(share.AsSpan(0, i), replacement.ToString(), share.AsSpan(i + 1));
            Assert.Throws<CryptoException>(() => Shamir.Combine([typo, shares[1]]));
        }
    }

    [Fact]
    public void A_share_with_a_dropped_or_added_character_is_refused()
    {
        var shares = Shamir.Split(RandomNumberGenerator.GetBytes(32), 3, 2);

        Assert.Throws<CryptoException>(() => Shamir.Combine([shares[0][..^1], shares[1]]));
        Assert.Throws<CryptoException>(() => Shamir.Combine([shares[0] + "A", shares[1]]));
        Assert.Throws<CryptoException>(() => Shamir.Combine(["not a share", shares[1]]));
        Assert.Throws<CryptoException>(() => Shamir.Combine(["coffer-share-v1-", shares[1]]));
        Assert.Throws<CryptoException>(() => Shamir.Combine(["coffer-share-v1-!!!!", shares[1]]));
    }

    [Fact]
    public void Surrounding_whitespace_from_copy_and_paste_is_ignored()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var shares = Shamir.Split(secret, 3, 2);

        Assert.Equal(secret, Shamir.Combine([" " + shares[0] + "\n", "\t" + shares[2]]));
    }

    [Fact]
    public void Duplicate_shares_are_refused()
    {
        var shares = Shamir.Split(RandomNumberGenerator.GetBytes(32), 3, 2);

        var error = Assert.Throws<CryptoException>(() => Shamir.Combine([shares[1], shares[1]]));
        Assert.Contains("same share", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Shares_of_different_splits_are_refused()
    {
        var first = Shamir.Split(RandomNumberGenerator.GetBytes(32), 3, 2);
        var second = Shamir.Split(RandomNumberGenerator.GetBytes(32), 3, 2);
        var otherThreshold = Shamir.Split(RandomNumberGenerator.GetBytes(32), 3, 3);
        var otherLength = Shamir.Split(RandomNumberGenerator.GetBytes(16), 3, 2);

        Assert.Throws<CryptoException>(() => Shamir.Combine([first[0], second[1]]));
        Assert.Throws<CryptoException>(() => Shamir.Combine([first[0], otherThreshold[1], otherThreshold[2]]));
        Assert.Throws<CryptoException>(() => Shamir.Combine([first[0], otherLength[1]]));
    }

    [Fact]
    public void Combine_of_no_shares_is_refused()
    {
        Assert.Throws<CryptoException>(() => Shamir.Combine([]));
    }

    [Fact]
    public void CryptoException_messages_never_contain_share_text()
    {
        var shares = Shamir.Split(RandomNumberGenerator.GetBytes(32), 3, 2);
        var payload = shares[0]["coffer-share-v1-".Length..];
        var typo = "coffer-share-v1-" + (payload[0] == 'A' ? 'B' : 'A') + payload[1..];

        var errors = new[]
        {
            Assert.Throws<CryptoException>(() => Shamir.Combine([typo, shares[1]])),
            Assert.Throws<CryptoException>(() => Shamir.Combine([shares[0], shares[0]])),
            Assert.Throws<CryptoException>(() => Shamir.Combine([shares[0]])),
        };

        foreach (var error in errors)
        {
            Assert.DoesNotContain(payload[..12], error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(typo[16..28], error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(256, 2)]
    [InlineData(5, 0)]
    [InlineData(5, 6)]
    [InlineData(1, 2)]
    public void Split_rejects_share_counts_and_thresholds_out_of_range(int shares, int threshold)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Shamir.Split(new byte[32], shares, threshold));
    }

    [Fact]
    public void Split_rejects_an_empty_secret()
    {
        Assert.Throws<ArgumentException>(() => Shamir.Split([], 3, 2));
    }

    [Fact]
    public void GF256_multiply_matches_the_FIPS197_worked_examples()
    {
        // FIPS-197 section 4.2: {57} . {83} = {c1}; section 4.2.1: {57} . {13} = {fe}.
        Assert.Equal(0xC1, Gf256.Multiply(0x57, 0x83));
        Assert.Equal(0xC1, Gf256.Multiply(0x83, 0x57));
        Assert.Equal(0xFE, Gf256.Multiply(0x57, 0x13));
        Assert.Equal(0xAE, Gf256.Multiply(0x57, 0x02));
        Assert.Equal(0x07, Gf256.Multiply(0x57, 0x10));
    }

    [Fact]
    public void GF256_multiply_agrees_with_a_reference_for_every_pair()
    {
        for (var a = 0; a < 256; a++)
        {
            for (var b = 0; b < 256; b++)
            {
                Assert.Equal(ReferenceMultiply((byte)a, (byte)b), Gf256.Multiply((byte)a, (byte)b));
            }
        }
    }

    [Fact]
    public void GF256_inverse_times_value_is_one_for_every_nonzero_value()
    {
        Assert.Equal(0, Gf256.Inverse(0));
        for (var a = 1; a < 256; a++)
        {
            Assert.Equal(1, Gf256.Multiply((byte)a, Gf256.Inverse((byte)a)));
        }

        // FIPS-197 5.1.1: the S-box starts from the inverse; {53}^-1 = {ca}.
        Assert.Equal(0xCA, Gf256.Inverse(0x53));
    }

    // Schoolbook carry-less multiply, then reduction of the 15-bit product by 0x11B: a different
    // route from the interleaved one under test.
    private static byte ReferenceMultiply(byte a, byte b)
    {
        var product = 0;
        for (var i = 0; i < 8; i++)
        {
            if ((b & (1 << i)) != 0)
            {
                product ^= a << i;
            }
        }

        for (var bit = 14; bit >= 8; bit--)
        {
            if ((product & (1 << bit)) != 0)
            {
                product ^= 0x11B << (bit - 8);
            }
        }

        return (byte)product;
    }

    private static List<string> Subset(IReadOnlyList<string> shares, int mask) =>
        shares.Where((_, i) => (mask & (1 << i)) != 0).ToList();

    private static int Binomial(int n, int k) => k == 0 ? 1 : Binomial(n - 1, k - 1) * n / k;
}
