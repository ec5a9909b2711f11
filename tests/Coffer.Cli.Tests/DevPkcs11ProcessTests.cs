using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>`coffer dev --pkcs11` as a user runs it: a throw-away SoftHSM2 token under the data
/// directory holds the demo key, and the printed facts (dev.json) work.</summary>
public sealed class DevPkcs11ProcessTests
{
    [Fact]
    public async Task Dev_with_pkcs11_keeps_the_demo_key_in_a_softhsm_token_that_encrypts_and_decrypts()
    {
        await using var dev = await DevProcess.StartAsync("--pkcs11");
        var info = dev.Info;
        Assert.Equal("pkcs11", info.Backend);
        Assert.Single(Directory.GetDirectories(Path.Combine(dev.DataDirectory, "softhsm", "tokens")));

        var xks = new XksClient(new Uri(info.XksBaseUrl), info.AccessKeyId, info.SecretAccessKey);
        var plaintext = "demo data key held by SoftHSM2.."u8.ToArray();
        var decrypted = await xks.DecryptAsync(info.KeyId, await xks.MustEncryptAsync(info.KeyId, plaintext));
        Assert.Equal(plaintext, decrypted.Json.GetProperty("plaintext").GetBytesFromBase64());

        using var admin = new HttpClient { BaseAddress = new Uri(info.AdminUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", info.AdminToken);
        var keys = JsonNode.Parse(await admin.GetStringAsync("/api/v1/keys"))!["keys"]!.AsArray();
        var key = JsonNode.Parse(await admin.GetStringAsync($"/api/v1/keys/{(string)keys[0]!["id"]!}"))!;
        Assert.Equal("pkcs11", (string?)key["versions"]![0]!["backend"]);
    }
}
