using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Server.Hosting;
using Coffer.Testing;
using Net.Pkcs11Interop.Common;

namespace Coffer.Server.Tests.Hsm;

/// <summary>
/// Adopting a key that already lives in the customer's HSM (POST .../keys with hsmLabel): only a
/// non-extractable, sensitive AES-256 key is accepted, and it then serves XKS like any other key.
/// </summary>
public sealed class HsmKeyImportTests : IAsyncLifetime
{
    private readonly HsmNode _node = new();
    private CofferServer _server = null!;
    private HttpClient _admin = null!;
    private string _hsmStore = null!;
    private XksClient _xks = null!;

    public async Task InitializeAsync()
    {
        _server = await _node.StartAsync();
        _admin = new HttpClient { BaseAddress = _server.AdminUrl };
        using var init = await _admin.PostAsJsonAsync("/api/v1/sys/init", new { seal = "pkcs11" });
        var token = (string)JsonNode.Parse(await init.Content.ReadAsStringAsync())!["rootToken"]!;
        _admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _xks = await Pkcs11SealTests.CreateKeyStoreAsync(_admin, _server.XksUrl);
        _hsmStore = (string)JsonNode.Parse(await _admin.GetStringAsync("/api/v1/keystores"))!.AsArray()
            .Single(s => (string?)s!["backend"] == "pkcs11")!["id"]!;
    }

    [Fact]
    public async Task A_non_extractable_aes_256_key_is_adopted_and_encrypts_and_decrypts()
    {
        MakeKey("customer-key-1", CKK.CKK_AES, 32, extractable: false);

        using var response = await _admin.PostAsJsonAsync($"/api/v1/keystores/{_hsmStore}/keys", new { name = "adopted", hsmLabel = "customer-key-1" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var plaintext = "a data key for the adopted key.."u8.ToArray();
        var encrypted = await _xks.MustEncryptAsync("adopted", plaintext);
        var decrypted = await _xks.DecryptAsync("adopted", encrypted);
        Assert.Equal(200, decrypted.Status);
        Assert.Equal(plaintext, decrypted.Json.GetProperty("plaintext").GetBytesFromBase64());
    }

    [Theory]
    [InlineData("extractable-key", CKK.CKK_AES, 32, true, "extractable")]
    [InlineData("short-key", CKK.CKK_AES, 16, false, "AES-256")]
    [InlineData("no-such-key", CKK.CKK_AES, 0, false, "no secret key labelled 'no-such-key'")]
    public async Task Anything_but_a_non_extractable_aes_256_key_is_refused_with_the_reason_and_creates_nothing(
        string label, CKK type, ulong length, bool extractable, string reason)
    {
        if (length > 0)
        {
            MakeKey(label, type, length, extractable);
        }

        var name = "refused-" + label;
        using var response = await _admin.PostAsJsonAsync($"/api/v1/keystores/{_hsmStore}/keys", new { name, hsmLabel = label });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(name, await _admin.GetStringAsync("/api/v1/keys"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adopting_into_a_software_key_store_is_refused()
    {
        using var store = await _admin.PostAsJsonAsync("/api/v1/keystores", new { name = "soft", uriPrefix = "/soft" });
        var id = (string)JsonNode.Parse(await store.Content.ReadAsStringAsync())!["id"]!;

        using var response = await _admin.PostAsJsonAsync($"/api/v1/keystores/{id}/keys", new { name = "nope", hsmLabel = "whatever" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("only a 'pkcs11' key store", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private void MakeKey(string label, CKK type, ulong length, bool extractable) =>
        _server.Seal.Pkcs11Token().Run(session => Pkcs11TestKeys.Make(session, label, type, length, extractable));

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
        _node.Dispose();
    }
}
