using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Crypto;
using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Hsm;

/// <summary>
/// <c>coffer rekey</c> with the shamir seal (a quorum of the current shares, new shares answered) and
/// the pkcs11 seal on a real SoftHSM2 token (at once): after a restart the node unseals with the new
/// outer layer only and serves what was encrypted before (docs/master-key.md, "coffer rekey").
/// </summary>
/// <remarks>In <see cref="Xks.HsmOutageCollection"/>: the pkcs11 test takes its token away, and its node
/// then reinitialises the SoftHSM2 module that every pkcs11 node of the test process shares.</remarks>
[Collection(nameof(Xks.HsmOutageCollection))]
public sealed class RekeySealTests : IDisposable
{
    private static readonly byte[] Plaintext = "encrypted before the rekey"u8.ToArray();

    private readonly HsmNode _node = new();

    [Fact]
    public async Task A_shamir_rekey_takes_a_quorum_refuses_wrong_shares_and_then_only_the_new_shares_unseal_after_a_restart()
    {
        string[] old, fresh;
        XksClient xks;
        XksEncrypted before;
        await using (var node = await _node.StartAsync(seal: "shamir"))
        {
            using var anonymous = new HttpClient { BaseAddress = node.AdminUrl };
            var init = await (await anonymous.PostJsonAsync("/api/v1/sys/init", new { shares = 3, threshold = 2 })).JsonAsync(HttpStatusCode.OK);
            old = [.. init["shares"]!.AsArray().Select(s => (string)s!)];
            foreach (var share in old.Take(2))
            {
                (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share })).EnsureSuccessStatusCode();
            }

            using var admin = Admin(node, (string)init["rootToken"]!);
            xks = await SoftwareKeyStoreAsync(admin, node.XksUrl);
            before = await xks.MustEncryptAsync("k1", Plaintext);
            var check = await node.Seal.Storage.System.GetSettingAsync(SettingNames.MasterCheck);

            using (var withoutShares = await admin.PostJsonAsync("/api/v1/sys/rekey", new { }))
            {
                Assert.Contains("makes new shares", (string?)(await withoutShares.ProblemAsync(HttpStatusCode.BadRequest))["detail"], StringComparison.Ordinal);
            }

            var started = await (await admin.PostJsonAsync("/api/v1/sys/rekey", new { shares = 2, threshold = 2 })).JsonAsync(HttpStatusCode.OK);
            Assert.Equal("awaiting-shares", (string?)started["phase"]);
            Assert.Equal(2, (int)started["required"]!);
            var nonce = (string)started["nonce"]!;

            await (await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = old[2] })).JsonAsync(HttpStatusCode.OK);
            using (var wrong = await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = Shamir.Split(new byte[32], 3, 2)[1] }))
            {
                Assert.Contains("were discarded", (string?)(await wrong.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
            }

            Assert.Equal(check, await node.Seal.Storage.System.GetSettingAsync(SettingNames.MasterCheck));
            Assert.Null(await node.Seal.Storage.System.GetSettingAsync(SettingNames.MasterNext));
            Assert.Equal(0, (int)(await admin.GetJsonAsync("/api/v1/sys/rekey"))["progress"]!);

            await (await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = old[0] })).JsonAsync(HttpStatusCode.OK);
            var done = await (await anonymous.PostJsonAsync("/api/v1/sys/resplit/share", new { nonce, share = old[1] })).JsonAsync(HttpStatusCode.OK);
            fresh = [.. done["newShares"]!.AsArray().Select(s => (string)s!)];
            Assert.Equal(2, fresh.Length);
            Assert.True((bool)done["rekey"]!["done"]!, done.ToJsonString());
            Assert.True((int)done["rekey"]!["resealed"]! >= 2); // the key's material and the credential's secret
            Assert.NotEqual(check, await node.Seal.Storage.System.GetSettingAsync(SettingNames.MasterCheck));
            Assert.Null(await node.Seal.Storage.System.GetSettingAsync(SettingNames.MasterRetired));
            Assert.Equal(200, (await xks.DecryptAsync("k1", before)).Status);
            var records = (await admin.GetJsonAsync("/api/v1/audit/records?action=seal.rekey.reseal"))["records"]!.AsArray();
            Assert.Single(records);
            Assert.DoesNotContain(records, r => fresh.Concat(old).Any(s => r!.ToJsonString().Contains(s, StringComparison.Ordinal)));
        }

        await using (var restarted = await _node.StartAsync(seal: "shamir"))
        {
            using var anonymous = new HttpClient { BaseAddress = restarted.AdminUrl };
            (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share = old[0] })).EnsureSuccessStatusCode();
            using (var stale = await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share = old[1] }))
            {
                Assert.Contains("do not open this installation's master key", (string?)(await stale.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
            }

            Assert.True(restarted.IsSealed);
            foreach (var share in fresh)
            {
                (await anonymous.PostJsonAsync("/api/v1/sys/unseal", new { share })).EnsureSuccessStatusCode();
            }

            Assert.False(restarted.IsSealed);
            var again = xks with { BaseUrl = new Uri(restarted.XksUrl, "/soft/kms/xks/v1") };
            var decrypted = await again.DecryptAsync("k1", before);
            Assert.Equal(200, decrypted.Status);
            Assert.Equal(Plaintext, decrypted.Json.GetProperty("plaintext").GetBytesFromBase64());
        }
    }

    [Fact]
    public async Task A_pkcs11_rekey_wraps_the_new_master_key_in_the_hsm_and_the_node_unseals_and_serves_after_a_restart()
    {
        XksClient xks;
        XksEncrypted before;
        string wrapped;
        await using (var node = await _node.StartAsync())
        {
            using var admin = new HttpClient { BaseAddress = node.AdminUrl };
            var init = await (await admin.PostJsonAsync("/api/v1/sys/init", new { seal = "pkcs11" })).JsonAsync(HttpStatusCode.OK);
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)init["rootToken"]!);
            xks = await SoftwareKeyStoreAsync(admin, node.XksUrl);
            before = await xks.MustEncryptAsync("k1", Plaintext);
            wrapped = (await node.Seal.Storage.System.GetSettingAsync(SettingNames.Pkcs11WrappedMasterKey))!;

            using (var shares = await admin.PostJsonAsync("/api/v1/sys/rekey", new { shares = 3, threshold = 2 }))
            {
                Assert.Contains("has no shares", (string?)(await shares.ProblemAsync(HttpStatusCode.BadRequest))["detail"], StringComparison.Ordinal);
            }

            var check = await node.Seal.Storage.System.GetSettingAsync(SettingNames.MasterCheck);
            _node.Token.TakeAway();
            try
            {
                using var unreachable = await admin.PostJsonAsync("/api/v1/sys/rekey", new { });
                Assert.Equal("HSM unavailable", (string?)(await unreachable.ProblemAsync(HttpStatusCode.ServiceUnavailable))["title"]);
                Assert.Equal(check, await node.Seal.Storage.System.GetSettingAsync(SettingNames.MasterCheck));
                Assert.Null(await node.Seal.Storage.System.GetSettingAsync(SettingNames.MasterNext));
            }
            finally
            {
                _node.Token.Restore();
            }

            // The backend reconnects on its own after a backoff; until then the rekey is refused as above.
            JsonNode done = null!;
            await Wait.UntilAsync(
                async () =>
                {
                    using var response = await admin.PostJsonAsync("/api/v1/sys/rekey", new { });
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        return false;
                    }

                    done = await response.JsonAsync(HttpStatusCode.OK);
                    return true;
                },
                "the rekey to go through once the HSM is back");
            Assert.True((bool)done["done"]!, done.ToJsonString());
            Assert.True((int)done["resealed"]! >= 2);
            Assert.NotEqual(wrapped, await node.Seal.Storage.System.GetSettingAsync(SettingNames.Pkcs11WrappedMasterKey));
            Assert.Equal(200, (await xks.DecryptAsync("k1", before)).Status);
        }

        await using (var restarted = await _node.StartAsync())
        {
            Assert.False(restarted.IsSealed);
            var again = xks with { BaseUrl = new Uri(restarted.XksUrl, "/soft/kms/xks/v1") };
            var decrypted = await again.DecryptAsync("k1", before);
            Assert.Equal(200, decrypted.Status);
            Assert.Equal(Plaintext, decrypted.Json.GetProperty("plaintext").GetBytesFromBase64());
            Assert.Equal(200, (await again.EncryptAsync("k1", Plaintext)).Status);
        }
    }

    // A software key store (its material and credential sealed under the master key) with key k1.
    private static async Task<XksClient> SoftwareKeyStoreAsync(HttpClient admin, Uri xksUrl)
    {
        using var store = await admin.PostAsJsonAsync("/api/v1/keystores", new { name = "soft", uriPrefix = "/soft", backend = "software" });
        var id = (string)(await store.JsonAsync(HttpStatusCode.Created))["id"]!;
        using var credential = await admin.PostAsync($"/api/v1/keystores/{id}/credentials", null);
        var created = await credential.JsonAsync(HttpStatusCode.Created);
        using var key = await admin.PostAsJsonAsync($"/api/v1/keystores/{id}/keys", new { name = "k1" });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        return new XksClient(new Uri(xksUrl, "/soft/kms/xks/v1"), (string)created["accessKeyId"]!, (string)created["secretAccessKey"]!);
    }

    private static HttpClient Admin(CofferServer node, string token) =>
        new() { BaseAddress = node.AdminUrl, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };

    public void Dispose() => _node.Dispose();
}
