using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// The key lifecycle as AWS KMS sees it: rotation, deactivation,
/// compromise and scheduled destruction through the management API, then XKS calls signed by
/// AWSSDK's signer. Runs on both backends (Backends.cs): a rotation makes its new version there.
/// </summary>
public abstract class LifecycleTests(XksNodeFixture fixture)
{
    private static readonly byte[] Aad = Encoding.UTF8.GetBytes("{\"aws:s3:arn\":\"arn:aws:s3:::bucket/lifecycle\"}");

    private readonly XksClient _xks = fixture.Client;

    private HttpClient Api => fixture.Node.Admin;

    private async Task<(string Name, string Id)> NewKeyAsync()
    {
        var name = Admin.Unique("life");
        return (name, await fixture.Node.CreateKeyAsync(fixture.DemoKeyStoreId, name, "ENCRYPT", "DECRYPT"));
    }

    private static byte[] MetadataOf(int version) => [0x01, 0, 0, (byte)(version >> 8), (byte)version];

    private async Task<(byte[] Plaintext, XksEncrypted Sealed)> EncryptAsync(string name)
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        return (plaintext, await _xks.MustEncryptAsync(name, plaintext, Aad));
    }

    private async Task AssertDecryptsAsync(string name, (byte[] Plaintext, XksEncrypted Sealed) data) =>
        Assert.Equal(data.Plaintext, XksAssert.Ok(await _xks.DecryptAsync(name, data.Sealed, Aad)).GetProperty("plaintext").GetBytesFromBase64());

    private async Task AssertRefusedAsync(string name, (byte[] Plaintext, XksEncrypted Sealed) data) =>
        XksAssert.Error(await _xks.DecryptAsync(name, data.Sealed, Aad), 400, "InvalidCiphertextException");

    private async Task<JsonNode> PostAsync(string path, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = body is null ? await Api.PostAsync(path, null) : await Api.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private Task<JsonNode> VersionAsync(string id, int version, string action, object? body = null, HttpStatusCode expected = HttpStatusCode.OK) =>
        PostAsync($"/api/v1/keys/{id}/versions/{version}/{action}", body, expected);

    private static JsonNode Version(JsonNode key, int version) => key["versions"]!.AsArray().Single(v => (int)v!["version"]! == version)!;

    [Fact]
    public async Task Rotation_encrypts_under_version_2_and_still_decrypts_version_1_with_metadata_unchanged()
    {
        var (name, id) = await NewKeyAsync();
        var metadataBefore = XksAssert.Ok(await _xks.GetKeyMetadataAsync(name)).GetRawText();
        var v1 = await EncryptAsync(name);
        Assert.Equal(MetadataOf(1), v1.Sealed.CiphertextMetadata);

        var rotated = await PostAsync($"/api/v1/keys/{id}/rotate");

        Assert.Equal(2, (int)rotated["currentVersion"]!);
        Assert.Equal("Deactivated", (string?)Version(rotated, 1)["state"]);
        Assert.Equal("Active", (string?)Version(rotated, 2)["state"]);
        Assert.Equal(fixture.Backend, (string?)Version(rotated, 2)["backend"]);
        Assert.True((bool)Version(rotated, 2)["encrypts"]!);
        Assert.False((bool)Version(rotated, 1)["encrypts"]!);
        Assert.True((bool)Version(rotated, 1)["decrypts"]!);
        var v2 = await EncryptAsync(name);
        Assert.Equal(MetadataOf(2), v2.Sealed.CiphertextMetadata);
        await AssertDecryptsAsync(name, v1);
        await AssertDecryptsAsync(name, v2);
        Assert.Equal(metadataBefore, XksAssert.Ok(await _xks.GetKeyMetadataAsync(name)).GetRawText());
    }

    [Fact]
    public async Task Rotating_twice_keeps_every_earlier_version_decrypting()
    {
        var (name, id) = await NewKeyAsync();
        var v1 = await EncryptAsync(name);
        await PostAsync($"/api/v1/keys/{id}/rotate");
        var v2 = await EncryptAsync(name);

        var rotated = await PostAsync($"/api/v1/keys/{id}/rotate", new { expectedCurrentVersion = 2 });

        Assert.Equal(3, (int)rotated["currentVersion"]!);
        var v3 = await EncryptAsync(name);
        Assert.Equal(MetadataOf(3), v3.Sealed.CiphertextMetadata);
        await AssertDecryptsAsync(name, v1);
        await AssertDecryptsAsync(name, v2);
        await AssertDecryptsAsync(name, v3);
    }

    [Fact]
    public async Task Compromising_the_current_version_rotates_and_its_ciphertext_decrypts_only_if_the_key_allows()
    {
        var (name, id) = await NewKeyAsync();
        var v1 = await EncryptAsync(name);

        var compromised = await VersionAsync(id, 1, "compromise");

        Assert.Equal(2, (int)compromised["currentVersion"]!);
        Assert.Equal("Compromised", (string?)Version(compromised, 1)["state"]);
        Assert.False((bool)Version(compromised, 1)["decrypts"]!);
        Assert.Equal("Active", (string?)Version(compromised, 2)["state"]);
        Assert.False((bool)compromised["compromisedMayDecrypt"]!);
        await AssertRefusedAsync(name, v1);
        var v2 = await EncryptAsync(name);
        Assert.Equal(MetadataOf(2), v2.Sealed.CiphertextMetadata);

        using (var allow = await Api.PutAsJsonAsync($"/api/v1/keys/{id}/compromised-may-decrypt", new { allowed = true }))
        {
            var key = JsonNode.Parse(await allow.Content.ReadAsStringAsync())!;
            Assert.Equal(HttpStatusCode.OK, allow.StatusCode);
            Assert.True((bool)key["compromisedMayDecrypt"]!);
            Assert.True((bool)Version(key, 1)["decrypts"]!);
        }

        await AssertDecryptsAsync(name, v1);
        Assert.Equal(MetadataOf(2), (await EncryptAsync(name)).Sealed.CiphertextMetadata);

        using (var forbid = await Api.PutAsJsonAsync($"/api/v1/keys/{id}/compromised-may-decrypt", new { allowed = false }))
        {
            Assert.Equal(HttpStatusCode.OK, forbid.StatusCode);
        }

        await AssertRefusedAsync(name, v1);
        await AssertDecryptsAsync(name, v2);
    }

    [Fact]
    public async Task Deactivating_the_current_version_stops_encryption_but_not_decryption()
    {
        var (name, id) = await NewKeyAsync();
        var v1 = await EncryptAsync(name);

        var deactivated = await VersionAsync(id, 1, "deactivate");

        Assert.Equal("Deactivated", (string?)Version(deactivated, 1)["state"]);
        Assert.Equal(1, (int)deactivated["currentVersion"]!);
        XksAssert.Error(await _xks.EncryptAsync(name, RandomNumberGenerator.GetBytes(32), Aad), 400, "InvalidStateException");
        await AssertDecryptsAsync(name, v1);
        Assert.Equal("ENABLED", XksAssert.Ok(await _xks.GetKeyMetadataAsync(name)).GetProperty("keyStatus").GetString());

        // Rotating brings encryption back under a fresh version.
        await PostAsync($"/api/v1/keys/{id}/rotate");
        Assert.Equal(MetadataOf(2), (await EncryptAsync(name)).Sealed.CiphertextMetadata);
    }

    [Fact]
    public async Task Scheduling_destruction_makes_a_version_unusable_at_once_and_cancelling_restores_it()
    {
        var (name, id) = await NewKeyAsync();
        var v1 = await EncryptAsync(name);
        await PostAsync($"/api/v1/keys/{id}/rotate");
        var v2 = await EncryptAsync(name);

        var scheduled = await VersionAsync(id, 1, "schedule-destruction", new { waitingPeriodDays = 7 });

        Assert.NotNull(Version(scheduled, 1)["destroysAt"]);
        Assert.Equal("Deactivated", (string?)Version(scheduled, 1)["state"]);
        Assert.False((bool)Version(scheduled, 1)["decrypts"]!);
        await AssertRefusedAsync(name, v1);
        await AssertDecryptsAsync(name, v2);
        Assert.Equal(MetadataOf(2), (await EncryptAsync(name)).Sealed.CiphertextMetadata);

        var cancelled = await VersionAsync(id, 1, "cancel-destruction");

        Assert.Null(Version(cancelled, 1)["destroysAt"]);
        Assert.True((bool)Version(cancelled, 1)["decrypts"]!);
        await AssertDecryptsAsync(name, v1);
    }

    [Fact]
    public async Task Concurrent_rotations_from_the_same_version_have_exactly_one_winner()
    {
        var (name, id) = await NewKeyAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await Api.PostAsJsonAsync($"/api/v1/keys/{id}/rotate", new { expectedCurrentVersion = 1 });
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.OK), a =>
        {
            Assert.Equal(HttpStatusCode.Conflict, a.StatusCode);
            Assert.Contains("rotated meanwhile", a.Body, StringComparison.Ordinal);
        });
        var key = await Api.GetFromJsonAsync<JsonNode>($"/api/v1/keys/{id}");
        Assert.Equal(2, (int)key!["currentVersion"]!);
        Assert.Equal(2, key["versions"]!.AsArray().Count);
        Assert.Equal(MetadataOf(2), (await EncryptAsync(name)).Sealed.CiphertextMetadata);
    }
}
