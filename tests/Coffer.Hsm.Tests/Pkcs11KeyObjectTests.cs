using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Keys;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace Coffer.Hsm.Tests;

/// <summary>What Coffer creates in the token, read back through Pkcs11Interop.</summary>
public sealed class Pkcs11KeyObjectTests(SharedSoftHsm hsm) : IClassFixture<SharedSoftHsm>
{
    private Pkcs11CryptoBackend Backend => hsm.Backend;

    private T InToken<T>(Func<ISession, T> call) => Backend.Token.Run(call);

    [Fact]
    public void Created_keys_are_sensitive_and_not_extractable()
    {
        var stored = Backend.CreateKeyMaterial("key_attrs", 1, KeyUsage.EncryptDecrypt);
        var reference = Pkcs11KeyReference.Decode(stored);

        var values = InToken(session =>
        {
            var handle = Pkcs11Objects.FindKey(session, reference);
            return session.GetAttributeValue(handle,
            [
                CKA.CKA_EXTRACTABLE, CKA.CKA_SENSITIVE, CKA.CKA_TOKEN, CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_ALWAYS_SENSITIVE,
                CKA.CKA_PRIVATE, CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT, CKA.CKA_WRAP, CKA.CKA_UNWRAP, CKA.CKA_KEY_TYPE,
                CKA.CKA_VALUE_LEN, CKA.CKA_LABEL, CKA.CKA_ID,
            ]).ToArray();
        });

        Assert.False(values[0].GetValueAsBool());
        Assert.True(values[1].GetValueAsBool());
        Assert.True(values[2].GetValueAsBool());
        Assert.True(values[3].GetValueAsBool());
        Assert.True(values[4].GetValueAsBool());
        Assert.True(values[5].GetValueAsBool());
        Assert.True(values[6].GetValueAsBool());
        Assert.True(values[7].GetValueAsBool());
        Assert.False(values[8].GetValueAsBool());
        Assert.False(values[9].GetValueAsBool());
        Assert.Equal((ulong)CKK.CKK_AES, values[10].GetValueAsUlong());
        Assert.Equal(32UL, values[11].GetValueAsUlong());
        Assert.Equal("coffer:key_attrs:v1", values[12].GetValueAsString());
        Assert.Equal(reference.Id, values[13].GetValueAsByteArray());
    }

    [Fact]
    public void Key_usage_sets_encrypt_and_decrypt_attributes()
    {
        var stored = Backend.CreateKeyMaterial("key_usage", 1, KeyUsage.Encrypt);
        var reference = Pkcs11KeyReference.Decode(stored);

        var values = InToken(session => session.GetAttributeValue(Pkcs11Objects.FindKey(session, reference), [CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT]));

        Assert.True(values[0].GetValueAsBool());
        Assert.False(values[1].GetValueAsBool());
    }

    [Fact]
    public void The_key_value_cannot_be_read()
    {
        var reference = Pkcs11KeyReference.Decode(Backend.CreateKeyMaterial("key_value", 1, KeyUsage.EncryptDecrypt));

        var value = InToken(session => session.GetAttributeValue(Pkcs11Objects.FindKey(session, reference), [CKA.CKA_VALUE])[0]);

        // Pkcs11Interop reports CKR_ATTRIBUTE_SENSITIVE from C_GetAttributeValue as CannotBeRead.
        Assert.True(value.CannotBeRead);
    }

    [Fact]
    public void The_key_cannot_be_wrapped_out_of_the_token()
    {
        var reference = Pkcs11KeyReference.Decode(Backend.CreateKeyMaterial("key_wrap", 1, KeyUsage.EncryptDecrypt));

        var error = Assert.Throws<Pkcs11Exception>(() => InToken(session =>
        {
            var attributes = session.Factories.ObjectAttributeFactory;
            var wrappingTemplate = new List<IObjectAttribute>
            {
                attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
                attributes.Create(CKA.CKA_VALUE_LEN, 32UL),
                attributes.Create(CKA.CKA_TOKEN, false),
                attributes.Create(CKA.CKA_WRAP, true),
            };
            using var generate = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
            var wrapping = session.GenerateKey(generate, wrappingTemplate);
            using var wrap = session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_WRAP);
            return session.WrapKey(wrap, wrapping, Pkcs11Objects.FindKey(session, reference));
        }));

        Assert.Equal(CKR.CKR_KEY_UNEXTRACTABLE, error.RV);
    }

    [Fact]
    public void The_stored_reference_is_tiny_and_holds_no_key()
    {
        var stored = Backend.CreateKeyMaterial("key_ref", 3, KeyUsage.EncryptDecrypt);
        var reference = Pkcs11KeyReference.Decode(stored);

        Assert.Equal(Pkcs11KeyReference.CreatedFormat, stored[0]);
        Assert.Equal(1 + 16 + "coffer:key_ref:v3".Length, stored.Length);
        Assert.Equal("coffer:key_ref:v3", reference.Label);
    }

    [Fact]
    public void Destroyed_key_material_no_longer_opens()
    {
        var stored = Backend.CreateKeyMaterial("key_destroy", 1, KeyUsage.EncryptDecrypt);
        using (var key = Backend.OpenKey("key_destroy", 1, stored))
        {
            Assert.True(Backend.DestroyKeyMaterial("key_destroy", 1, stored));
            Assert.Throws<CryptoException>(() => key.Encrypt([1], [], new byte[12], new byte[1], new byte[16]));
        }

        Assert.Throws<CryptoException>(() => Backend.OpenKey("key_destroy", 1, stored));
        Assert.Empty(InToken(session => Pkcs11Objects.FindSecretKeys(session, "coffer:key_destroy:v1", null)));
    }

    [Fact]
    public void Destroying_again_finds_nothing_and_is_not_an_error()
    {
        var stored = Backend.CreateKeyMaterial("key_destroy_twice", 1, KeyUsage.EncryptDecrypt);

        Assert.True(Backend.DestroyKeyMaterial("key_destroy_twice", 1, stored));
        Assert.False(Backend.DestroyKeyMaterial("key_destroy_twice", 1, stored));
    }

    [Fact]
    public void A_reference_of_another_key_or_version_destroys_nothing()
    {
        var stored = Backend.CreateKeyMaterial("key_destroy_other", 1, KeyUsage.EncryptDecrypt);

        Assert.Throws<CryptoException>(() => Backend.DestroyKeyMaterial("key_destroy_other", 2, stored));
        Assert.Throws<CryptoException>(() => Backend.DestroyKeyMaterial("someone_else", 1, stored));
        using var key = Backend.OpenKey("key_destroy_other", 1, stored);
        key.Encrypt([1], [], new byte[12], new byte[1], new byte[16]);
    }

    [Fact]
    public void The_health_key_is_a_dedicated_non_extractable_token_object()
    {
        using (Backend.CreateHealthCheckKey())
        {
        }

        using (Backend.CreateHealthCheckKey())
        {
        }

        var found = InToken(session =>
        {
            var handles = Pkcs11Objects.FindSecretKeys(session, Pkcs11KeyReference.HealthLabel, null);
            return (handles.Count, Problem: Pkcs11Objects.WhyUnusable(session, handles[0]));
        });

        Assert.Equal(1, found.Count);
        Assert.Null(found.Problem);
    }

    [Fact]
    public void Hsm_aes_gcm_matches_System_Security_Cryptography()
    {
        // A key whose value the test knows (so extractable, and a session object): the production
        // AES-GCM path must agree with AesGcm on IV, AAD and tag length in both directions.
        var value = RandomNumberGenerator.GetBytes(32);
        var handle = InToken(session =>
        {
            var attributes = session.Factories.ObjectAttributeFactory;
            return session.CreateObject(
            [
                attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
                attributes.Create(CKA.CKA_VALUE, value),
                attributes.Create(CKA.CKA_TOKEN, false),
                attributes.Create(CKA.CKA_ENCRYPT, true),
                attributes.Create(CKA.CKA_DECRYPT, true),
            ]);
        });
        using var hsmKey = Pkcs11AeadKey.ForTestObject(Backend.Token, handle);
        using var aes = new AesGcm(value, 16);
        var plaintext = RandomNumberGenerator.GetBytes(100);
        var aad = RandomNumberGenerator.GetBytes(300);

        var iv = new byte[12];
        var ciphertext = new byte[100];
        var tag = new byte[16];
        hsmKey.Encrypt(plaintext, aad, iv, ciphertext, tag);
        var decrypted = new byte[100];
        aes.Decrypt(iv, ciphertext, tag, decrypted, aad);
        Assert.Equal(plaintext, decrypted);

        RandomNumberGenerator.Fill(iv);
        aes.Encrypt(iv, plaintext, ciphertext, tag, aad);
        Array.Clear(decrypted);
        Assert.True(hsmKey.TryDecrypt(iv, ciphertext, tag, aad, decrypted));
        Assert.Equal(plaintext, decrypted);
    }
}
