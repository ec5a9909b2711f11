using Coffer.Testing;
using Coffer.Crypto;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm.Tests;

public sealed class Pkcs11ImportTests(SharedSoftHsm hsm) : IClassFixture<SharedSoftHsm>
{
    private Pkcs11CryptoBackend Backend => hsm.Backend;

    private void MakeKey(string label, CKK type, ulong length, bool extractable, bool sensitive = true) =>
        Backend.Token.Run(session => Pkcs11TestKeys.Make(session, label, type, length, extractable, sensitive, id: [1, 2, 3]));

    [Fact]
    public void Import_accepts_a_non_extractable_aes_256_key_and_it_works()
    {
        MakeKey("ext-good", CKK.CKK_AES, 32, extractable: false);

        var stored = Backend.ImportKey("ext-good");
        using var key = Backend.OpenKey("key_imported", 1, stored);
        var iv = new byte[12];
        var ciphertext = new byte[3];
        var tag = new byte[16];
        key.Encrypt([1, 2, 3], [7], iv, ciphertext, tag);
        var plaintext = new byte[3];

        Assert.Equal(Pkcs11KeyReference.ImportedFormat, stored[0]);
        Assert.True(key.TryDecrypt(iv, ciphertext, tag, [7], plaintext));
        Assert.Equal([1, 2, 3], plaintext);
    }

    [Fact]
    public void Import_refuses_an_extractable_key()
    {
        MakeKey("ext-extractable", CKK.CKK_AES, 32, extractable: true);

        var error = Assert.Throws<CryptoException>(() => Backend.ImportKey("ext-extractable"));
        Assert.Contains("extractable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_refuses_a_non_sensitive_key()
    {
        MakeKey("ext-plain", CKK.CKK_AES, 32, extractable: false, sensitive: false);

        var error = Assert.Throws<CryptoException>(() => Backend.ImportKey("ext-plain"));
        Assert.Contains("not sensitive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_refuses_an_aes_128_key()
    {
        MakeKey("ext-aes128", CKK.CKK_AES, 16, extractable: false);

        var error = Assert.Throws<CryptoException>(() => Backend.ImportKey("ext-aes128"));
        Assert.Contains("not a 256-bit key (it has 128 bits)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_refuses_a_generic_secret()
    {
        MakeKey("ext-generic", CKK.CKK_GENERIC_SECRET, 32, extractable: false);

        var error = Assert.Throws<CryptoException>(() => Backend.ImportKey("ext-generic"));
        Assert.Contains("not an AES key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_of_a_missing_label_says_so()
    {
        var error = Assert.Throws<CryptoException>(() => Backend.ImportKey("no-such-key"));
        Assert.Contains("no secret key labelled 'no-such-key'", error.Message, StringComparison.Ordinal);
    }
}
