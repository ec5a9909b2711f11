using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>
/// <c>coffer seal</c> then <c>coffer unseal</c> with no share, for the seals that hold their own key:
/// the dev seal (its key file) and the pkcs11 seal (a key in the HSM, here a real SoftHSM2 token).
/// </summary>
public sealed class SelfUnsealTests
{
    private static readonly byte[] Plaintext = "a data key that works again after unseal"u8.ToArray();

    [Fact]
    public async Task Unseal_without_a_share_unseals_a_dev_node_after_seal()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        var before = await xks.MustEncryptAsync(node.Info.KeyId, Plaintext);
        Assert.Equal(0, (await Cli.RunAsync(node, "seal")).ExitCode);
        Assert.Equal("InvalidStateException", (await xks.EncryptAsync(node.Info.KeyId, Plaintext)).ErrorName);

        var unseal = await Cli.RunAsync(node, "unseal");

        Assert.True(unseal.ExitCode == 0, unseal.ToString());
        Assert.Contains("Coffer is unsealed.", unseal.Out, StringComparison.Ordinal);
        Assert.False(node.Server.IsSealed);
        await xks.MustEncryptAsync(node.Info.KeyId, Plaintext);
        Assert.Equal(200, (await xks.DecryptAsync(node.Info.KeyId, before)).Status);
    }

    [Fact]
    public async Task Unseal_without_a_share_unseals_a_pkcs11_sealed_node_after_seal()
    {
        await using var node = await SealedNode.StartPkcs11Async();
        var anonymous = Cli.Environment(node.AdminUrl, token: null);
        var init = await Cli.RunAsync(anonymous, "init", "--seal", "pkcs11", "--json");
        Assert.True(init.ExitCode == 0, init.ToString());
        var rootToken = init.Json.GetProperty("rootToken").GetString()!;
        var xks = await CreateHsmKeyAsync(node, rootToken);
        var before = await xks.MustEncryptAsync("k1", Plaintext);
        Assert.Equal(0, (await Cli.RunAsync(Cli.Environment(node.AdminUrl, rootToken), "seal")).ExitCode);
        Assert.True(node.Server.IsSealed);
        Assert.Equal("InvalidStateException", (await xks.EncryptAsync("k1", Plaintext)).ErrorName);

        var unseal = await Cli.RunAsync(anonymous, "unseal");

        Assert.True(unseal.ExitCode == 0, unseal.ToString());
        Assert.Contains("Coffer is unsealed.", unseal.Out, StringComparison.Ordinal);
        Assert.False(node.Server.IsSealed);
        await xks.MustEncryptAsync("k1", Plaintext);
        Assert.Equal(200, (await xks.DecryptAsync("k1", before)).Status);
    }

    [Fact]
    public async Task A_pkcs11_sealed_node_not_yet_initialised_logs_the_pkcs11_init_advice()
    {
        await using var node = await SealedNode.StartPkcs11Async();

        Assert.Contains("coffer init --seal pkcs11", node.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain("init --shares", node.Logs.All, StringComparison.Ordinal);
    }

    /// <summary>A pkcs11 key store with one credential and key <c>k1</c>, through the management API.</summary>
    private static async Task<XksClient> CreateHsmKeyAsync(SealedNode node, string rootToken)
    {
        using var admin = new HttpClient { BaseAddress = node.Server.AdminUrl };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", rootToken);
        using var store = await admin.PostAsJsonAsync("/api/v1/keystores", new { name = "hsm", uriPrefix = "/hsm", backend = "pkcs11" });
        Assert.Equal(HttpStatusCode.Created, store.StatusCode);
        var id = (string)JsonNode.Parse(await store.Content.ReadAsStringAsync())!["id"]!;
        using var credential = await admin.PostAsync($"/api/v1/keystores/{id}/credentials", null);
        var created = JsonNode.Parse(await credential.Content.ReadAsStringAsync())!;
        using var key = await admin.PostAsJsonAsync($"/api/v1/keystores/{id}/keys", new { name = "k1" });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        return new XksClient(new Uri(node.Server.XksUrl, "/hsm/kms/xks/v1"), (string)created["accessKeyId"]!, (string)created["secretAccessKey"]!);
    }
}
