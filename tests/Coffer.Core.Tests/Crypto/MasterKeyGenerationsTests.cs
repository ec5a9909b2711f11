using Coffer.Crypto;
using Coffer.Keys;

namespace Coffer.Core.Tests.Crypto;

/// <summary>The master keys a node holds during a rekey: new data is sealed under the current one,
/// stored data opens under either, and the caller learns which (docs/master-key.md, "coffer rekey").</summary>
public sealed class MasterKeyGenerationsTests
{
    [Fact]
    public void A_value_opens_under_either_generation_and_says_whether_it_was_the_current_one()
    {
        using var old = MasterKey.Generate();
        using var next = MasterKey.Generate();
        var underOld = old.Seal(SealPurpose.WebhookSecret, "wh-1", [1, 2, 3]);
        var keys = new MasterKeyGenerations(next);
        keys.Set(next, [old]);

        Assert.True(keys.TryOpen(SealPurpose.WebhookSecret, "wh-1", underOld, out var opened, out var underCurrent));
        Assert.Equal([1, 2, 3], opened);
        Assert.False(underCurrent);
        var underNext = keys.Current.Seal(SealPurpose.WebhookSecret, "wh-1", [4]);
        Assert.True(keys.TryOpen(SealPurpose.WebhookSecret, "wh-1", underNext, out _, out underCurrent));
        Assert.True(underCurrent);
        Assert.Equal([4], next.Open(SealPurpose.WebhookSecret, "wh-1", underNext));
    }

    [Fact]
    public void A_value_no_generation_sealed_or_bound_elsewhere_does_not_open()
    {
        using var current = MasterKey.Generate();
        using var other = MasterKey.Generate();
        var keys = new MasterKeyGenerations(current);
        var foreign = other.Seal(SealPurpose.WebhookSecret, "wh-1", [1]);

        Assert.False(keys.TryOpen(SealPurpose.WebhookSecret, "wh-1", foreign, out _, out _));
        Assert.Throws<CryptoException>(() => keys.Open(SealPurpose.WebhookSecret, "wh-1", foreign));
        keys.Set(current, [other]);
        Assert.Throws<CryptoException>(() => keys.Open(SealPurpose.WebhookSecret, "wh-2", foreign));
    }

    [Fact]
    public void The_software_backend_seals_new_material_under_the_current_generation_and_opens_the_old()
    {
        using var old = MasterKey.Generate();
        using var next = MasterKey.Generate();
        var oldMaterial = new SoftwareCryptoBackend(old).CreateKeyMaterial("key-1", 1, KeyUsage.EncryptDecrypt);
        var keys = new MasterKeyGenerations(next);
        keys.Set(next, [old]);
        using var backend = new SoftwareCryptoBackend(keys);

        using var opened = backend.OpenKey("key-1", 1, oldMaterial);
        var newMaterial = backend.CreateKeyMaterial("key-1", 2, KeyUsage.EncryptDecrypt);
        Assert.Throws<CryptoException>(() => old.Open(SealPurpose.KeyMaterial, SoftwareCryptoBackend.Context("key-1", 2), newMaterial));
        Assert.NotEmpty(next.Open(SealPurpose.KeyMaterial, SoftwareCryptoBackend.Context("key-1", 2), newMaterial));
    }
}
