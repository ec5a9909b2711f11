using System.Text;
using Coffer.Crypto;

namespace Coffer.Core.Tests.Crypto;

public sealed class MasterKeyTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("PLAINTEXT-MARKER-7f3a9c");

    [Fact]
    public void Seal_then_Open_with_the_same_purpose_and_context_round_trips()
    {
        using var master = MasterKey.Generate();

        var sealedData = master.Seal(SealPurpose.KeyMaterial, "key_abc/v1", Secret);

        Assert.Equal(Secret.Length + MasterKey.SealOverhead, sealedData.Length);
        Assert.Equal(0x01, sealedData[0]);
        Assert.Equal(Secret, master.Open(SealPurpose.KeyMaterial, "key_abc/v1", sealedData));
    }

    [Fact]
    public void Seal_of_empty_plaintext_round_trips()
    {
        using var master = MasterKey.Generate();

        var sealedData = master.Seal(SealPurpose.SigV4Secret, "cred_1", []);

        Assert.Equal(MasterKey.SealOverhead, sealedData.Length);
        Assert.Empty(master.Open(SealPurpose.SigV4Secret, "cred_1", sealedData));
    }

    [Fact]
    public void Seal_twice_gives_different_nonces()
    {
        using var master = MasterKey.Generate();

        var first = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);
        var second = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);

        Assert.NotEqual(first.AsSpan(1, 12).ToArray(), second.AsSpan(1, 12).ToArray());
    }

    [Fact]
    public void Open_with_another_purpose_fails()
    {
        using var master = MasterKey.Generate();
        var sealedData = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);

        Assert.Throws<CryptoException>(() => master.Open(SealPurpose.SigV4Secret, "k/v1", sealedData));
    }

    [Fact]
    public void Open_with_another_context_fails()
    {
        using var master = MasterKey.Generate();
        var sealedData = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);

        Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, "k/v2", sealedData));
        Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, "k/v1 ", sealedData));
        Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, string.Empty, sealedData));
    }

    [Fact]
    public void Open_under_another_master_key_fails()
    {
        using var master = MasterKey.Generate();
        using var other = MasterKey.Generate();
        var sealedData = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);

        Assert.Throws<CryptoException>(() => other.Open(SealPurpose.KeyMaterial, "k/v1", sealedData));
    }

    [Fact]
    public void Open_with_any_flipped_bit_fails()
    {
        using var master = MasterKey.Generate();
        var sealedData = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);

        for (var i = 0; i < sealedData.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var tampered = (byte[])sealedData.Clone();
                tampered[i] ^= (byte)(1 << bit);
                Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, "k/v1", tampered));
            }
        }
    }

    [Fact]
    public void Open_of_truncated_input_fails()
    {
        using var master = MasterKey.Generate();
        var sealedData = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);

        for (var length = 0; length < sealedData.Length; length++)
        {
            var truncated = sealedData[..length];
            Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, "k/v1", truncated));
        }
    }

    [Fact]
    public void Open_with_an_unknown_format_byte_fails()
    {
        using var master = MasterKey.Generate();
        var sealedData = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);
        sealedData[0] = 0x02;

        var error = Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, "k/v1", sealedData));
        Assert.Contains("format", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_master_key_from_exported_bytes_opens_what_the_original_sealed()
    {
        using var master = MasterKey.Generate();
        var sealedData = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);
        var exported = master.Export();
        using var copy = MasterKey.FromBytes(exported);

        Assert.Equal(MasterKey.Size, exported.Length);
        Assert.Equal(Secret, copy.Open(SealPurpose.KeyMaterial, "k/v1", sealedData));
    }

    [Fact]
    public void FromBytes_rejects_a_key_that_is_not_32_bytes()
    {
        Assert.Throws<ArgumentException>(() => MasterKey.FromBytes(new byte[31]));
        Assert.Throws<ArgumentException>(() => MasterKey.FromBytes(new byte[33]));
    }

    [Fact]
    public void Subkeys_are_HKDF_SHA256_of_the_master_key_with_the_purpose_as_info()
    {
        // An independent rebuild of the format in docs/formats.md: HKDF subkey, AAD, layout.
        var raw = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        using var master = MasterKey.FromBytes(raw);
        var sealedData = master.Seal(SealPurpose.SigV4Secret, "cred_x", Secret);

        var subkey = System.Security.Cryptography.HKDF.DeriveKey(
            System.Security.Cryptography.HashAlgorithmName.SHA256, raw, 32, salt: [], info: Encoding.UTF8.GetBytes("coffer/v1/sigv4-secret"));
        using var aes = new System.Security.Cryptography.AesGcm(subkey, 16);
        var plaintext = new byte[Secret.Length];
        aes.Decrypt(
            sealedData.AsSpan(1, 12),
            sealedData.AsSpan(13, Secret.Length),
            sealedData.AsSpan(13 + Secret.Length, 16),
            plaintext,
            Encoding.UTF8.GetBytes("coffer/v1/sigv4-secret\0cred_x"));
        Assert.Equal(Secret, plaintext);
    }

    [Fact]
    public void Check_value_matches_the_key_that_made_it()
    {
        using var master = MasterKey.Generate();
        var check = master.CreateCheckValue();
        using var same = MasterKey.FromBytes(master.Export());

        Assert.True(master.MatchesCheckValue(check));
        Assert.True(same.MatchesCheckValue(check));
    }

    [Fact]
    public void Check_value_does_not_match_another_key_or_garbage()
    {
        using var master = MasterKey.Generate();
        using var other = MasterKey.Generate();
        var check = master.CreateCheckValue();
        var tampered = (byte[])check.Clone();
        tampered[^1] ^= 1;

        Assert.False(other.MatchesCheckValue(check));
        Assert.False(master.MatchesCheckValue(tampered));
        Assert.False(master.MatchesCheckValue([]));
        Assert.False(master.MatchesCheckValue(new byte[64]));
    }

    [Fact]
    public void Check_value_is_not_a_valid_seal_for_another_purpose()
    {
        using var master = MasterKey.Generate();
        var check = master.CreateCheckValue();

        Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, string.Empty, check));
    }

    [Fact]
    public void Using_a_disposed_master_key_throws_ObjectDisposedException()
    {
        var master = MasterKey.Generate();
        var sealedData = master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret);
        var check = master.CreateCheckValue();
        master.Dispose();
        master.Dispose(); // idempotent

        Assert.Throws<ObjectDisposedException>(() => master.Seal(SealPurpose.KeyMaterial, "k/v1", Secret));
        Assert.Throws<ObjectDisposedException>(() => master.Open(SealPurpose.KeyMaterial, "k/v1", sealedData));
        Assert.Throws<ObjectDisposedException>(() => master.Export());
        Assert.Throws<ObjectDisposedException>(() => master.CreateCheckValue());
        Assert.Throws<ObjectDisposedException>(() => master.MatchesCheckValue(check));
    }

    [Fact]
    public void CryptoException_messages_never_contain_the_plaintext_or_context()
    {
        using var master = MasterKey.Generate();
        const string context = "CONTEXT-MARKER-91bd";
        var sealedData = master.Seal(SealPurpose.KeyMaterial, context, Secret);
        var marker = Encoding.UTF8.GetString(Secret);
        var tampered = (byte[])sealedData.Clone();
        tampered[20] ^= 0x40;
        var badFormat = (byte[])sealedData.Clone();
        badFormat[0] = 0x7f;

        var errors = new[]
        {
            Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, context + "x", sealedData)),
            Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, context, tampered)),
            Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, context, badFormat)),
            Assert.Throws<CryptoException>(() => master.Open(SealPurpose.KeyMaterial, context, sealedData.AsSpan(0, 10))),
        };

        foreach (var error in errors)
        {
            var text = error.ToString();
            Assert.DoesNotContain(marker, text, StringComparison.Ordinal);
            Assert.DoesNotContain("CONTEXT-MARKER", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(Secret), text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(Secret), text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Seal_rejects_an_empty_purpose_or_one_containing_NUL()
    {
        using var master = MasterKey.Generate();

        Assert.Throws<ArgumentException>(() => master.Seal(string.Empty, "c", Secret));
        Assert.Throws<ArgumentException>(() => master.Seal("a\0b", "c", Secret));
    }

    [Fact]
    public void Seal_and_Open_from_many_threads_at_once_round_trip()
    {
        using var master = MasterKey.Generate();

        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var purpose = (i % 3) switch { 0 => SealPurpose.KeyMaterial, 1 => SealPurpose.SigV4Secret, _ => SealPurpose.MasterCheck };
            var context = $"k{i}";
            var data = BitConverter.GetBytes(i);
            Assert.Equal(data, master.Open(purpose, context, master.Seal(purpose, context, data)));
        });
    }
}
