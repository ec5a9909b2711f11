using Coffer.Alerts;
using Coffer.Keys;
using Coffer.KeyStores;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>Every value sealed under the master key, listed for a rekey and replaced only over the
/// bytes it was read with (a compare-and-set); what is erased or held by an HSM is not listed.</summary>
public abstract partial class RepositoryConformanceTests
{
    private ISealedDataRepository SealedData => (Store.Lifetime as ICofferStorage)?.SealedData
        ?? throw new InvalidOperationException("This storage has no sealed data repository.");

    [Fact]
    public async Task Sealed_values_are_listed_and_replaced_only_over_the_bytes_they_were_read_with()
    {
        var keyStore = await CreateKeyStoreAsync();
        var software = await CreateKeyAsync(keyStore.Id);
        var hsm = NewKey(keyStore.Id);
        await Keys.CreateKeyAsync(hsm, new KeyVersion(hsm.Id, 1, KeyVersionState.Active, "pkcs11", [7, 7], T0));
        await KeyStores.AddCredentialAsync(new Credential(NextId("cred"), keyStore.Id, "AKIASEALED", [4, 4, 4], T0, null));
        var webhook = new Webhook(NextId("whk"), "https://hooks.example/a", [], [5, 5], 0, T0, "tok_admin");
        var removed = new Webhook(NextId("whk"), "https://hooks.example/b", [], [6, 6], 0, T0, "tok_admin");
        await Alerts.AddWebhookAsync(webhook);
        await Alerts.AddWebhookAsync(removed);
        await Alerts.RemoveWebhookAsync(removed.Id, T0, "removed");

        var listed = await SealedData.ListAsync();

        Assert.Equal(
            [(SealedValueKind.KeyMaterial, software.Id, 1), (SealedValueKind.SigV4Secret, "AKIASEALED", 0), (SealedValueKind.WebhookSecret, webhook.Id, 0)],
            listed.Select(v => (v.Kind, v.Id, v.Version)));
        var material = listed[0];
        Assert.Equal(FirstVersion(software).Material, material.Bytes);

        Assert.Equal(1, await SealedData.ReplaceAsync([(material, [9, 9, 9])]));
        // Read before the first replace: stale, and left as it is while the others in its transaction are written.
        Assert.Equal(2, await SealedData.ReplaceAsync([(material, [8, 8, 8]), (listed[1], [3, 3]), (listed[2], [2, 2])]));

        var reopened = await OpenAsync();
        Assert.Equal([9, 9, 9], (await reopened.Keys.LoadAllAsync()).Single(k => k.Key.Id == software.Id).Versions.Single().Material);
        Assert.Equal([3, 3], (await reopened.KeyStores.ListCredentialsAsync(keyStore.Id)).Single().SealedSecret);
        Assert.Equal([2, 2], (await reopened.Alerts.GetWebhookAsync(webhook.Id))!.SealedSecret);
        Assert.Equal([[9, 9, 9], [3, 3], [2, 2]], (await SealedData.ListAsync()).Select(v => v.Bytes));
    }
}
