using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Keys;

namespace Coffer.Hsm.Tests.Conformance;

/// <summary>
/// What every <see cref="ICryptoBackend"/> promises (docs/style.md, practice 10), run against the
/// software backend and against the pkcs11 backend on SoftHSM2.
/// </summary>
public abstract class CryptoBackendConformance
{
    protected abstract ICryptoBackend Backend { get; }

    private static string NewKeyId() => CredentialGenerator.NewId("key");

    private IAeadKey NewKey(out string keyId)
    {
        keyId = NewKeyId();
        return Backend.OpenKey(keyId, 1, Backend.CreateKeyMaterial(keyId, 1, KeyUsage.EncryptDecrypt));
    }

    private static (byte[] Iv, byte[] Ciphertext, byte[] Tag) Encrypt(IAeadKey key, byte[] plaintext, byte[] aad)
    {
        var iv = new byte[IAeadKey.IvSize];
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[IAeadKey.TagSize];
        key.Encrypt(plaintext, aad, iv, ciphertext, tag);
        return (iv, ciphertext, tag);
    }

    private static byte[]? Decrypt(IAeadKey key, byte[] iv, byte[] ciphertext, byte[] tag, byte[] aad)
    {
        var plaintext = new byte[ciphertext.Length];
        return key.TryDecrypt(iv, ciphertext, tag, aad, plaintext) ? plaintext : null;
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(32, 17)]
    [InlineData(4300, 64)]
    [InlineData(100, 8200)]
    public void Encrypt_then_decrypt_returns_the_plaintext(int plaintextLength, int aadLength)
    {
        using var key = NewKey(out _);
        var plaintext = RandomNumberGenerator.GetBytes(plaintextLength);
        var aad = RandomNumberGenerator.GetBytes(aadLength);

        var (iv, ciphertext, tag) = Encrypt(key, plaintext, aad);

        Assert.Equal(plaintext, Decrypt(key, iv, ciphertext, tag, aad));
        if (plaintextLength > 0)
        {
            Assert.NotEqual(plaintext, ciphertext);
        }
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("iv")]
    [InlineData("tag")]
    [InlineData("aad")]
    public void Decrypt_of_tampered_input_fails_and_zeroes_the_output(string part)
    {
        using var key = NewKey(out _);
        var aad = RandomNumberGenerator.GetBytes(20);
        var (iv, ciphertext, tag) = Encrypt(key, RandomNumberGenerator.GetBytes(48), aad);
        var target = part switch { "ciphertext" => ciphertext, "iv" => iv, "tag" => tag, _ => aad };
        target[target.Length / 2] ^= 0x01;

        var plaintext = new byte[ciphertext.Length];
        Array.Fill(plaintext, (byte)0xAA);
        Assert.False(key.TryDecrypt(iv, ciphertext, tag, aad, plaintext));
        Assert.All(plaintext, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Decrypt_with_a_short_tag_or_iv_fails()
    {
        using var key = NewKey(out _);
        var (iv, ciphertext, tag) = Encrypt(key, [1, 2, 3], []);

        Assert.Null(Decrypt(key, iv, ciphertext, tag[..12], []));
        Assert.Null(Decrypt(key, iv[..8], ciphertext, tag, []));
    }

    [Fact]
    public void Each_encrypt_uses_a_fresh_iv()
    {
        using var key = NewKey(out _);
        var ivs = Enumerable.Range(0, 20).Select(_ => Convert.ToHexString(Encrypt(key, [1], []).Iv)).ToList();
        Assert.Equal(ivs.Count, ivs.Distinct().Count());
    }

    [Fact]
    public void Material_opened_as_another_version_or_key_fails()
    {
        var keyId = NewKeyId();
        var stored = Backend.CreateKeyMaterial(keyId, 1, KeyUsage.EncryptDecrypt);

        Assert.Throws<CryptoException>(() => Backend.OpenKey(keyId, 2, stored));
        Assert.Throws<CryptoException>(() => Backend.OpenKey(NewKeyId(), 1, stored));
    }

    [Fact]
    public void Destroying_material_twice_is_not_an_error_and_the_second_time_finds_nothing()
    {
        var keyId = NewKeyId();
        var stored = Backend.CreateKeyMaterial(keyId, 1, KeyUsage.EncryptDecrypt);

        Backend.DestroyKeyMaterial(keyId, 1, stored);

        Assert.False(Backend.DestroyKeyMaterial(keyId, 1, stored));
    }

    [Fact]
    public void Corrupt_material_fails_to_open()
    {
        var keyId = NewKeyId();
        var stored = Backend.CreateKeyMaterial(keyId, 1, KeyUsage.EncryptDecrypt);
        stored[0] ^= 0xFF;

        Assert.Throws<CryptoException>(() => Backend.OpenKey(keyId, 1, stored));
        Assert.Throws<CryptoException>(() => Backend.OpenKey(keyId, 1, []));
    }

    [Fact]
    public void A_label_that_names_no_key_is_neither_imported_nor_opened_as_a_seal_key()
    {
        var label = "customer-" + NewKeyId();

        Assert.Throws<CryptoException>(() => Backend.ImportKey(label));
        Assert.Throws<CryptoException>(() => Backend.OpenSealKey(label, create: false));
    }

    [Fact]
    public void Keys_opened_before_a_log_out_work_after_it()
    {
        using var key = NewKey(out _);
        var (iv, ciphertext, tag) = Encrypt(key, [5, 6, 7], [2]);

        Backend.LogOut();

        Assert.Equal([5, 6, 7], Decrypt(key, iv, ciphertext, tag, [2]));
        using var health = Backend.CreateHealthCheckKey();
        var (hiv, hciphertext, htag) = Encrypt(health, [1], []);
        Assert.Equal([1], Decrypt(health, hiv, hciphertext, htag, []));
    }

    [Fact]
    public void Two_versions_of_a_key_are_different_keys()
    {
        var keyId = NewKeyId();
        using var v1 = Backend.OpenKey(keyId, 1, Backend.CreateKeyMaterial(keyId, 1, KeyUsage.EncryptDecrypt));
        using var v2 = Backend.OpenKey(keyId, 2, Backend.CreateKeyMaterial(keyId, 2, KeyUsage.EncryptDecrypt));
        var (iv, ciphertext, tag) = Encrypt(v1, [1, 2, 3], []);

        Assert.Null(Decrypt(v2, iv, ciphertext, tag, []));
    }

    [Fact]
    public void A_stored_key_opened_twice_decrypts_what_the_other_encrypted()
    {
        var keyId = NewKeyId();
        var stored = Backend.CreateKeyMaterial(keyId, 1, KeyUsage.EncryptDecrypt);
        using var first = Backend.OpenKey(keyId, 1, stored);
        using var second = Backend.OpenKey(keyId, 1, stored);
        var (iv, ciphertext, tag) = Encrypt(first, [9, 8, 7], [1]);

        Assert.Equal([9, 8, 7], Decrypt(second, iv, ciphertext, tag, [1]));
    }

    [Fact]
    public void Many_threads_can_use_one_key_at_once()
    {
        using var key = NewKey(out _);
        var failures = 0;
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            var plaintext = RandomNumberGenerator.GetBytes(i % 64);
            var aad = BitConverter.GetBytes(i);
            var (iv, ciphertext, tag) = Encrypt(key, plaintext, aad);
            if (!plaintext.AsSpan().SequenceEqual(Decrypt(key, iv, ciphertext, tag, aad)))
            {
                Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(0, failures);
    }

    [Fact]
    public async Task The_asynchronous_forms_agree_with_the_synchronous_ones()
    {
        using var key = NewKey(out _);
        var plaintext = RandomNumberGenerator.GetBytes(100);
        var aad = RandomNumberGenerator.GetBytes(40);

        var iv = new byte[IAeadKey.IvSize];
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[IAeadKey.TagSize];
        await key.EncryptAsync(plaintext, aad, iv, ciphertext, tag);
        Assert.Equal(plaintext, Decrypt(key, iv, ciphertext, tag, aad));

        var (iv2, ciphertext2, tag2) = Encrypt(key, plaintext, aad);
        var decrypted = new byte[plaintext.Length];
        Assert.True(await key.TryDecryptAsync(iv2, ciphertext2, tag2, aad, decrypted));
        Assert.Equal(plaintext, decrypted);

        tag2[0] ^= 0x01;
        Array.Fill(decrypted, (byte)0xAA);
        Assert.False(await key.TryDecryptAsync(iv2, ciphertext2, tag2, aad, decrypted));
        Assert.All(decrypted, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Many_asynchronous_calls_can_use_one_key_at_once()
    {
        using var key = NewKey(out _);
        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            var plaintext = RandomNumberGenerator.GetBytes(i % 64);
            var aad = BitConverter.GetBytes(i);
            var iv = new byte[IAeadKey.IvSize];
            var ciphertext = new byte[plaintext.Length];
            var tag = new byte[IAeadKey.TagSize];
            await key.EncryptAsync(plaintext, aad, iv, ciphertext, tag);
            var decrypted = new byte[plaintext.Length];
            return await key.TryDecryptAsync(iv, ciphertext, tag, aad, decrypted) && decrypted.AsSpan().SequenceEqual(plaintext);
        });

        Assert.All(await Task.WhenAll(calls), Assert.True);
    }

    [Fact]
    public void Health_check_key_round_trips()
    {
        using var key = Backend.CreateHealthCheckKey();
        var (iv, ciphertext, tag) = Encrypt(key, [1, 2, 3, 4], [5]);

        Assert.Equal([1, 2, 3, 4], Decrypt(key, iv, ciphertext, tag, [5]));
    }

    [Fact]
    public void A_disposed_key_refuses_to_work()
    {
        var key = NewKey(out _);
        var (iv, ciphertext, tag) = Encrypt(key, [1], []);
        key.Dispose();
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Encrypt(key, [1], []));
        Assert.Throws<ObjectDisposedException>(() => Decrypt(key, iv, ciphertext, tag, []));
    }
}

public sealed class SoftwareBackendConformanceTests : CryptoBackendConformance, IDisposable
{
    private readonly MasterKey _master = MasterKey.Generate();
    private readonly SoftwareCryptoBackend _backend;

    public SoftwareBackendConformanceTests() => _backend = new SoftwareCryptoBackend(_master);

    protected override ICryptoBackend Backend => _backend;

    public void Dispose()
    {
        _backend.Dispose();
        _master.Dispose();
    }
}

public sealed class Pkcs11BackendConformanceTests(SharedSoftHsm hsm) : CryptoBackendConformance, IClassFixture<SharedSoftHsm>
{
    protected override ICryptoBackend Backend => hsm.Backend;

    [Fact]
    public void Name_is_pkcs11()
    {
        Assert.Equal("pkcs11", Backend.Name);
    }
}
