using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Server.Tests.Hsm;

/// <summary>
/// The pkcs11 seal on a real SoftHSM2 token: `coffer init --seal pkcs11` encrypts a new master key
/// with a non-extractable key in the HSM, the node unseals itself at every start, and `coffer seal`
/// followed by `coffer unseal` (no share) asks the HSM again.
/// </summary>
public sealed class Pkcs11SealTests : IDisposable
{
    private static readonly byte[] Plaintext = "data key sealed through the HSM!"u8.ToArray();

    private readonly HsmNode _node = new();

    [Fact]
    public async Task Init_unseals_itself_after_every_restart_and_after_seal()
    {
        XksEncrypted encrypted;
        string rootToken;
        XksClient xks;
        await using (var node = await StartAsync())
        {
            using var admin = new HttpClient { BaseAddress = node.AdminUrl };
            Assert.True(node.IsSealed);

            using var init = await admin.PostAsJsonAsync("/api/v1/sys/init", new { seal = "pkcs11" });
            Assert.Equal(HttpStatusCode.OK, init.StatusCode);
            var answer = JsonNode.Parse(await init.Content.ReadAsStringAsync())!;
            Assert.Empty(answer["shares"]!.AsArray());
            rootToken = (string)answer["rootToken"]!;
            Assert.False(node.IsSealed);

            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", rootToken);
            xks = await CreateKeyStoreAsync(admin, node.XksUrl);
            encrypted = await xks.MustEncryptAsync("k1", Plaintext);

            // Sealing drops the master key; unseal needs no share with this seal.
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/v1/sys/seal", null)).StatusCode);
            Assert.True(node.IsSealed);
            Assert.Equal("InvalidStateException", (await xks.EncryptAsync("k1", Plaintext)).ErrorName);
            using var unseal = await admin.PostAsJsonAsync("/api/v1/sys/unseal", new { });
            Assert.Equal(HttpStatusCode.OK, unseal.StatusCode);
            Assert.False(node.IsSealed);
        }

        await using (var restarted = await StartAsync())
        {
            Assert.False(restarted.IsSealed);
            var again = new XksClient(new Uri(restarted.XksUrl, "/hsm/kms/xks/v1"), xks.AccessKeyId, xks.SecretAccessKey);
            var decrypted = await again.DecryptAsync("k1", encrypted);
            Assert.Equal(200, decrypted.Status);
            Assert.Equal(Plaintext, decrypted.Json.GetProperty("plaintext").GetBytesFromBase64());
        }

        Assert.DoesNotContain(rootToken, _node.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_with_a_seal_the_server_is_not_configured_for_is_a_400_problem()
    {
        await using var node = await StartAsync();
        using var admin = new HttpClient { BaseAddress = node.AdminUrl };
        using var init = await admin.PostAsJsonAsync("/api/v1/sys/init", new { shares = 3, threshold = 2 });

        Assert.Equal(HttpStatusCode.BadRequest, init.StatusCode);
        Assert.Contains("'pkcs11' seal", await init.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(node.IsSealed);
    }

    [Fact]
    public async Task A_tampered_stored_master_key_leaves_the_node_sealed_and_says_why()
    {
        await using (var node = await StartAsync())
        {
            using var admin = new HttpClient { BaseAddress = node.AdminUrl };
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/api/v1/sys/init", new { seal = "pkcs11" })).StatusCode);
        }

        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_node.Directory, "coffer.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            using var read = connection.CreateCommand();
            read.CommandText = "SELECT value FROM settings WHERE name = 'seal.pkcs11.wrapped'";
            var wrapped = Convert.FromBase64String((string)(await read.ExecuteScalarAsync())!);
            wrapped[20] ^= 0x01;
            using var write = connection.CreateCommand();
            write.CommandText = "UPDATE settings SET value = $v WHERE name = 'seal.pkcs11.wrapped'";
            write.Parameters.AddWithValue("$v", Convert.ToBase64String(wrapped));
            Assert.Equal(1, await write.ExecuteNonQueryAsync());
        }

        await using var restarted = await StartAsync();
        Assert.True(restarted.IsSealed);
        Assert.Contains("does not open the stored master key", _node.Logs.All, StringComparison.Ordinal);
    }

    private Task<CofferServer> StartAsync() => _node.StartAsync();


    internal static async Task<XksClient> CreateKeyStoreAsync(HttpClient admin, Uri xksUrl)
    {
        using var store = await admin.PostAsJsonAsync("/api/v1/keystores", new { name = "hsm", uriPrefix = "/hsm", backend = "pkcs11" });
        var id = (string)JsonNode.Parse(await store.Content.ReadAsStringAsync())!["id"]!;
        using var credential = await admin.PostAsync($"/api/v1/keystores/{id}/credentials", null);
        var created = JsonNode.Parse(await credential.Content.ReadAsStringAsync())!;
        using var key = await admin.PostAsJsonAsync($"/api/v1/keystores/{id}/keys", new { name = "k1" });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        return new XksClient(new Uri(xksUrl, "/hsm/kms/xks/v1"), (string)created["accessKeyId"]!, (string)created["secretAccessKey"]!);
    }

    public void Dispose() => _node.Dispose();
}
