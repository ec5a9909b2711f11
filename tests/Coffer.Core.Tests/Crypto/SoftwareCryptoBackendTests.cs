using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Keys;

namespace Coffer.Core.Tests.Crypto;

public sealed class SoftwareCryptoBackendTests : IDisposable
{
    private readonly MasterKey _master = MasterKey.Generate();
    private readonly SoftwareCryptoBackend _backend;

    public SoftwareCryptoBackendTests() => _backend = new SoftwareCryptoBackend(_master);

    public void Dispose()
    {
        _backend.Dispose();
        _master.Dispose();
    }

    [Fact]
    public void Name_is_software()
    {
        Assert.Equal("software", _backend.Name);
    }

    [Fact]
    public void Stored_material_is_sealed_not_plaintext_and_opens_to_a_working_key()
    {
        var stored = _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt);

        Assert.Equal(32 + MasterKey.SealOverhead, stored.Length);
        Assert.Equal(0x01, stored[0]);
        using var key = _backend.OpenKey("key_a", 1, stored);
        RoundTrip(key, RandomNumberGenerator.GetBytes(100), "aad"u8.ToArray());
    }

    [Fact]
    public void Two_opens_of_the_same_material_are_the_same_key()
    {
        var stored = _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt);
        using var first = _backend.OpenKey("key_a", 1, stored);
        using var second = _backend.OpenKey("key_a", 1, stored);
        var plaintext = RandomNumberGenerator.GetBytes(48);
        var (iv, ciphertext, tag) = Encrypt(first, plaintext, []);

        var opened = new byte[plaintext.Length];
        Assert.True(second.TryDecrypt(iv, ciphertext, tag, [], opened));
        Assert.Equal(plaintext, opened);
    }

    [Fact]
    public void Material_of_version_1_does_not_open_as_version_2()
    {
        var stored = _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt);

        Assert.Throws<CryptoException>(() => _backend.OpenKey("key_a", 2, stored));
    }

    [Fact]
    public void Material_of_one_key_does_not_open_as_another_key()
    {
        var stored = _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt);

        Assert.Throws<CryptoException>(() => _backend.OpenKey("key_b", 1, stored));
        Assert.Throws<CryptoException>(() => _backend.OpenKey("key_a/v1", 1, stored));
    }

    [Fact]
    public void Tampered_material_does_not_open()
    {
        var stored = _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt);
        stored[^5] ^= 0x01;

        Assert.Throws<CryptoException>(() => _backend.OpenKey("key_a", 1, stored));
    }

    [Fact]
    public void Material_does_not_open_under_another_master_key()
    {
        var stored = _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt);
        using var otherMaster = MasterKey.Generate();
        using var other = new SoftwareCryptoBackend(otherMaster);

        Assert.Throws<CryptoException>(() => other.OpenKey("key_a", 1, stored));
    }

    [Fact]
    public void Each_version_gets_fresh_material()
    {
        using var v1 = _backend.OpenKey("key_a", 1, _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt));
        using var v2 = _backend.OpenKey("key_a", 2, _backend.CreateKeyMaterial("key_a", 2, KeyUsage.EncryptDecrypt));
        var (iv, ciphertext, tag) = Encrypt(v1, [1, 2, 3, 4], []);

        Assert.False(v2.TryDecrypt(iv, ciphertext, tag, [], new byte[4]));
    }

    [Fact]
    public void Key_ids_and_versions_are_validated()
    {
        Assert.Throws<ArgumentException>(() => _backend.CreateKeyMaterial(string.Empty, 1, KeyUsage.EncryptDecrypt));
        Assert.Throws<ArgumentOutOfRangeException>(() => _backend.CreateKeyMaterial("key_a", 0, KeyUsage.EncryptDecrypt));
    }

    [Fact]
    public void Importing_a_key_or_opening_a_seal_key_is_refused_with_a_reason()
    {
        // Every key of this backend is sealed under the master key: there is nothing outside Coffer to
        // adopt, and a seal key here would be protected by what it protects.
        Assert.Contains("no keys outside Coffer", Assert.Throws<CryptoException>(() => _backend.ImportKey("customer-key")).Message, StringComparison.Ordinal);
        Assert.Contains("master key", Assert.Throws<CryptoException>(() => _backend.OpenSealKey("coffer:seal", create: true)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Health_check_key_round_trips_and_is_a_fresh_key_each_time()
    {
        using var first = _backend.CreateHealthCheckKey();
        using var second = _backend.CreateHealthCheckKey();
        var plaintext = RandomNumberGenerator.GetBytes(32);

        RoundTrip(first, plaintext, []);
        var (iv, ciphertext, tag) = Encrypt(first, plaintext, []);
        Assert.False(second.TryDecrypt(iv, ciphertext, tag, [], new byte[32]));
    }

    [Fact]
    public void Decrypt_with_tampered_ciphertext_iv_tag_or_aad_fails_and_zeroes_the_output()
    {
        using var key = _backend.OpenKey("key_a", 1, _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt));
        var plaintext = RandomNumberGenerator.GetBytes(40);
        byte[] aad = [9, 8, 7];
        var (iv, ciphertext, tag) = Encrypt(key, plaintext, aad);

        void ExpectFailure(byte[] i, byte[] c, byte[] t, byte[] a)
        {
            var output = Enumerable.Repeat((byte)0xEE, c.Length).ToArray();
            Assert.False(key.TryDecrypt(i, c, t, a, output));
            Assert.All(output, b => Assert.Equal(0, b));
        }

        ExpectFailure(Flip(iv, 3), ciphertext, tag, aad);
        ExpectFailure(iv, Flip(ciphertext, 0), tag, aad);
        ExpectFailure(iv, ciphertext, Flip(tag, 15), aad);
        ExpectFailure(iv, ciphertext, tag, Flip(aad, 1));
        ExpectFailure(iv, ciphertext, tag, []);
    }

    [Fact]
    public void Many_threads_sharing_one_key_all_round_trip()
    {
        using var key = _backend.OpenKey("key_a", 1, _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt));
        var failures = 0;

        Parallel.For(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            Span<byte> plaintext = stackalloc byte[64];
            Span<byte> aad = stackalloc byte[8];
            Span<byte> iv = stackalloc byte[IAeadKey.IvSize];
            Span<byte> ciphertext = stackalloc byte[64];
            Span<byte> tag = stackalloc byte[IAeadKey.TagSize];
            Span<byte> opened = stackalloc byte[64];
            BitConverter.TryWriteBytes(aad, (long)i);
            plaintext.Fill((byte)i);

            key.Encrypt(plaintext, aad, iv, ciphertext, tag);
            if (!key.TryDecrypt(iv, ciphertext, tag, aad, opened) || !opened.SequenceEqual(plaintext))
            {
                Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(0, failures);
    }

    [Fact]
    public void Using_a_disposed_key_throws_ObjectDisposedException()
    {
        var key = _backend.OpenKey("key_a", 1, _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt));
        var (iv, ciphertext, tag) = Encrypt(key, [1, 2, 3], []);
        key.Dispose();
        key.Dispose(); // idempotent

        Assert.Throws<ObjectDisposedException>(() => Encrypt(key, [1, 2, 3], []));
        Assert.Throws<ObjectDisposedException>(() => key.TryDecrypt(iv, ciphertext, tag, [], new byte[3]));
    }

    [Fact]
    public async Task Disposing_a_key_while_other_threads_use_it_never_encrypts_under_a_zeroed_key()
    {
        // Every encrypt either throws ObjectDisposedException or produces a ciphertext that the real
        // key (a second open of the same material) decrypts.
        var stored = _backend.CreateKeyMaterial("key_a", 1, KeyUsage.EncryptDecrypt);
        using var reference = _backend.OpenKey("key_a", 1, stored);
        for (var round = 0; round < 20; round++)
        {
            var key = _backend.OpenKey("key_a", 1, stored);
            var bad = 0;
            using var start = new Barrier(5);
            var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                for (var i = 0; i < 500; i++)
                {
                    var iv = new byte[12];
                    var ciphertext = new byte[8];
                    var tag = new byte[16];
                    try
                    {
                        key.Encrypt(new byte[8], [], iv, ciphertext, tag);
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }

                    if (!reference.TryDecrypt(iv, ciphertext, tag, [], new byte[8]))
                    {
                        Interlocked.Increment(ref bad);
                    }
                }
            })).ToArray();
            start.SignalAndWait();
            key.Dispose();
            await Task.WhenAll(workers);
            Assert.Equal(0, bad);
        }
    }

    [Fact]
    public void Using_a_disposed_backend_throws_ObjectDisposedException()
    {
        using var master = MasterKey.Generate();
        var backend = new SoftwareCryptoBackend(master);
        backend.Dispose();

        Assert.Throws<ObjectDisposedException>(() => backend.CreateKeyMaterial("k", 1, KeyUsage.EncryptDecrypt));
        Assert.Throws<ObjectDisposedException>(() => backend.CreateHealthCheckKey());
    }

    private static (byte[] Iv, byte[] Ciphertext, byte[] Tag) Encrypt(IAeadKey key, byte[] plaintext, byte[] aad)
    {
        var iv = new byte[IAeadKey.IvSize];
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[IAeadKey.TagSize];
        key.Encrypt(plaintext, aad, iv, ciphertext, tag);
        return (iv, ciphertext, tag);
    }

    private static void RoundTrip(IAeadKey key, byte[] plaintext, byte[] aad)
    {
        var (iv, ciphertext, tag) = Encrypt(key, plaintext, aad);
        Assert.NotEqual(plaintext, ciphertext);
        var opened = new byte[plaintext.Length];
        Assert.True(key.TryDecrypt(iv, ciphertext, tag, aad, opened));
        Assert.Equal(plaintext, opened);
    }

    private static byte[] Flip(byte[] data, int index)
    {
        var copy = (byte[])data.Clone();
        copy[index] ^= 0x01;
        return copy;
    }
}
