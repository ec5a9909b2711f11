using Coffer.Crypto;

namespace Coffer.Core.Tests.Crypto;

/// <summary>
/// The software backend's <see cref="IAeadKey"/> against external AES-GCM vectors: Wycheproof
/// (C2SP/wycheproof) and NIST CAVP GCMVS. Each test asserts how many cases it ran, so a parser that
/// silently drops cases fails instead of passing.
/// </summary>
public sealed class AesGcmKeyVectorTests
{
    [Fact]
    public void Wycheproof_AES256_96bit_IV_128bit_tag_vectors_all_pass()
    {
        var cases = GcmVectors.Wycheproof();

        // SOURCE.md: 66 tests in the XKS subset, 39 valid and 27 invalid.
        Assert.Equal(66, cases.Count);
        Assert.Equal(39, cases.Count(c => c.Valid));
        Assert.Equal(27, cases.Count(c => !c.Valid));
        Assert.Equal(66, RunAll(cases, encrypt: true));
    }

    [Fact]
    public void NIST_GCMVS_encrypt_vectors_with_96bit_IV_and_128bit_tag_all_pass()
    {
        var cases = GcmVectors.Nist("gcmEncryptExtIV256.rsp");

        Assert.Equal(375, cases.Count);
        Assert.All(cases, c => Assert.True(c.Valid));
        Assert.Equal(375, RunAll(cases, encrypt: true));
    }

    [Fact]
    public void NIST_GCMVS_decrypt_vectors_with_96bit_IV_and_128bit_tag_all_pass()
    {
        var cases = GcmVectors.Nist("gcmDecrypt256.rsp");

        // SOURCE.md: 375 cases in the subset, 191 of them marked FAIL.
        Assert.Equal(375, cases.Count);
        Assert.Equal(191, cases.Count(c => !c.Valid));
        Assert.Equal(375, RunAll(cases, encrypt: false));
    }

    [Fact]
    public void Decrypt_with_an_IV_that_is_not_12_bytes_fails_and_zeroes_the_output()
    {
        using var key = AesGcmKey.FromRawKeyForTests(new byte[32]);
        var plaintext = new byte[] { 1, 2, 3 };

        Assert.False(key.TryDecrypt(new byte[16], new byte[3], new byte[16], [], plaintext));
        Assert.Equal(new byte[3], plaintext);
    }

    [Fact]
    public void Encrypt_fills_a_fresh_IV_on_every_call()
    {
        using var key = AesGcmKey.Generate();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var iv = new byte[IAeadKey.IvSize];
        var tag = new byte[IAeadKey.TagSize];
        for (var i = 0; i < 1000; i++)
        {
            key.Encrypt([], [], iv, [], tag);
            Assert.True(seen.Add(Convert.ToHexString(iv)));
        }
    }

    // Runs every case; collects failures so one run reports all of them. Returns the number run.
    private static int RunAll(IReadOnlyList<GcmCase> cases, bool encrypt)
    {
        var failures = new List<string>();
        var run = 0;
        foreach (var c in cases)
        {
            using var key = AesGcmKey.FromRawKeyForTests(c.Key);
            if (c.Valid && encrypt)
            {
                var ciphertext = new byte[c.Plaintext.Length];
                var tag = new byte[IAeadKey.TagSize];
                key.EncryptWithIv(c.Iv, c.Plaintext, c.Aad, ciphertext, tag);
                if (!ciphertext.AsSpan().SequenceEqual(c.Ciphertext) || !tag.AsSpan().SequenceEqual(c.Tag))
                {
                    failures.Add($"{c.Source}: encrypt gave other ciphertext or tag");
                }
            }

            var plaintext = new byte[c.Ciphertext.Length];
            var opened = key.TryDecrypt(c.Iv, c.Ciphertext, c.Tag, c.Aad, plaintext);
            if (c.Valid && (!opened || !plaintext.AsSpan().SequenceEqual(c.Plaintext)))
            {
                failures.Add($"{c.Source}: valid case did not decrypt to the plaintext");
            }
            else if (!c.Valid && (opened || plaintext.Any(b => b != 0)))
            {
                failures.Add($"{c.Source}: invalid case decrypted or left output behind");
            }

            run++;
        }

        Assert.Empty(failures);
        return run;
    }
}
