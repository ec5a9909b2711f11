using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.KeyStores;
using Coffer.Testing;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Tests.Xks;

/// <summary>Taking a token away, or reinitialising the module, disturbs every pkcs11 node of the
/// process (one module per process), so these run alone, after the parallel tests.</summary>
[CollectionDefinition(nameof(HsmOutageCollection), DisableParallelization = true)]
public sealed class HsmOutageCollection;

/// <summary>
/// docs/pkcs11.md, "Errors" and "Outage and recovery", through the real server: a node whose demo key
/// store keeps its keys in a SoftHSM2 token, beside a software key store on the same node.
/// </summary>
[Collection(nameof(HsmOutageCollection))]
public sealed class HsmOutageTests
{
    /// <summary>Longer than the reconnect back-off (100 ms doubling to 5 s) plus a health cache of 1 s.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static string HealthOf(XksResponse response) =>
        XksAssert.Ok(response).GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString()!;

    /// <summary>Asks <paramref name="client"/> for health until it says <paramref name="status"/>
    /// (bounded by <see cref="Patience"/>); returns how long that took.</summary>
    private static async Task<TimeSpan> WaitForHealthAsync(XksClient client, string status)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < Patience)
        {
            last = HealthOf(await client.HealthAsync());
            if (last == status)
            {
                return clock.Elapsed;
            }

            await Task.Delay(200);
        }

        throw new Xunit.Sdk.XunitException($"Health stayed {last} for {Patience.TotalSeconds} s; expected {status}.");
    }

    /// <summary>The documented answer for a key in an unreachable token: 503 DependencyTimeoutException
    /// (retryable), naming the HSM but no PKCS#11 internals.</summary>
    private static void Unreachable(XksResponse response)
    {
        XksAssert.Error(response, 503, "DependencyTimeoutException");
        Assert.Contains("HSM", response.ErrorMessage!, StringComparison.Ordinal);
        Assert.DoesNotContain("CKR_", response.ErrorMessage!, StringComparison.Ordinal);
    }

    private static async Task<(int Status, JsonNode? Problem)> CreateKeyViaAdminAsync(DevServer node, string keyStoreId, string name)
    {
        var body = new JsonObject { ["name"] = name, ["usage"] = new JsonArray("ENCRYPT", "DECRYPT") };
        using var response = await node.Admin.PostAsync($"/api/v1/keystores/{keyStoreId}/keys",
            new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task Token_taken_away_is_UNAVAILABLE_and_503_while_software_keys_work_and_it_heals_without_restart()
    {
        await using var node = await DevServer.StartAsync(o => o.Xks.HealthCacheSeconds = 1, backend: KeyStoreBackends.Pkcs11);
        var token = node.Token!;
        var hsm = XksClient.For(node);
        var key = node.Info.KeyId;
        var soft = await node.CreateKeyStoreAsync("/" + Admin.Unique("soft"), backend: KeyStoreBackends.Software);
        await node.CreateKeyAsync(soft.Id, "soft-key", "ENCRYPT", "DECRYPT");
        var plaintext = RandomNumberGenerator.GetBytes(48);
        var aad = RandomNumberGenerator.GetBytes(16);
        var before = await hsm.MustEncryptAsync(key, plaintext, aad);
        var softBefore = await soft.Client.MustEncryptAsync("soft-key", plaintext, aad);
        Assert.Equal("ACTIVE", HealthOf(await hsm.HealthAsync()));

        token.TakeAway();
        try
        {
            // No wait: the first call into the vanished token finds out.
            Unreachable(await hsm.EncryptAsync(key, plaintext, aad));
            Unreachable(await hsm.DecryptAsync(key, before, aad));
            await WaitForHealthAsync(hsm, "UNAVAILABLE");
            // Metadata lives in the key ring, not in the token.
            XksAssert.Ok(await hsm.GetKeyMetadataAsync(key));
            // The operator sees the PKCS#11 function and code in the log (event 2003).
            Assert.Contains(node.Logs.Lines, l => l.Contains("[2003]", StringComparison.Ordinal) && l.Contains("HSM failure", StringComparison.Ordinal)
                && l.Contains("CKR_", StringComparison.Ordinal));

            // The software key store of the same node does not notice.
            Assert.Equal(plaintext, (await soft.Client.DecryptAsync("soft-key", softBefore, aad)).Bytes("plaintext"));
            XksAssert.Ok(await soft.Client.EncryptAsync("soft-key", plaintext, aad));
            Assert.Equal("ACTIVE", HealthOf(await soft.Client.HealthAsync()));

            // Making a key in the token is refused with a clear, retryable problem.
            var (status, problem) = await CreateKeyViaAdminAsync(node, await node.KeyStoreIdAsync(node.Info.UriPrefix), "made-during-outage");
            Assert.Equal(503, status);
            Assert.Equal("HSM unavailable", (string?)problem!["title"]);
            // ...and a software key still can be made.
            await node.CreateKeyAsync(soft.Id, "soft-during-outage", "ENCRYPT", "DECRYPT");
            XksAssert.Ok(await soft.Client.EncryptAsync("soft-during-outage", plaintext));
        }
        finally
        {
            token.Restore();
        }

        // Recovery on the same running node: the reconnect back-off is at most 5 s.
        await WaitForHealthAsync(hsm, "ACTIVE");
        Assert.Equal(plaintext, (await hsm.DecryptAsync(key, before, aad)).Bytes("plaintext"));
        var after = await hsm.MustEncryptAsync(key, plaintext);
        Assert.Equal(plaintext, (await hsm.DecryptAsync(key, after)).Bytes("plaintext"));
        await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), "made-after-outage", "ENCRYPT", "DECRYPT");
        XksAssert.Ok(await hsm.EncryptAsync("made-after-outage", plaintext));
        Assert.Equal(plaintext, (await soft.Client.DecryptAsync("soft-key", softBefore, aad)).Bytes("plaintext"));
    }

    [Fact]
    public async Task Node_restarted_with_a_wrong_token_label_starts_serves_software_and_answers_503_for_pkcs11_until_fixed()
    {
        var node = await DevServer.StartAsync(backend: KeyStoreBackends.Pkcs11);
        var live = node;
        try
        {
            var label = node.Token!.TokenLabel;
            var demoStoreId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
            var soft = await node.CreateKeyStoreAsync("/" + Admin.Unique("soft"), backend: KeyStoreBackends.Software);
            await node.CreateKeyAsync(soft.Id, "soft-key", "ENCRYPT", "DECRYPT");
            var plaintext = RandomNumberGenerator.GetBytes(32);
            var before = await XksClient.For(node).MustEncryptAsync(node.Info.KeyId, plaintext);
            var softBefore = await soft.Client.MustEncryptAsync("soft-key", plaintext);

            live = await node.RestartAsync(o => o.Pkcs11!.TokenLabel = "no-such-token");

            // It started, and said why the token is missing (event 1103).
            Assert.Contains(live.Logs.Lines, l => l.Contains("[1103]", StringComparison.Ordinal)
                && l.Contains("No token labelled 'no-such-token'", StringComparison.Ordinal));
            var softClient = soft.Client with { BaseUrl = new Uri(live.XksUrl, soft.Prefix + "/kms/xks/v1") };
            Assert.Equal(plaintext, (await softClient.DecryptAsync("soft-key", softBefore)).Bytes("plaintext"));
            XksAssert.Ok(await softClient.EncryptAsync("soft-key", plaintext));
            Assert.Equal("ACTIVE", HealthOf(await softClient.HealthAsync()));
            Assert.Equal(200, (await XksClient.SendUnsignedAsync(HttpMethod.Get, new Uri(live.XksUrl, "/ping"))).Status);

            var hsm = XksClient.For(live);
            Unreachable(await hsm.EncryptAsync(live.Info.KeyId, plaintext));
            Unreachable(await hsm.DecryptAsync(live.Info.KeyId, before));
            Assert.Equal("UNAVAILABLE", HealthOf(await hsm.HealthAsync()));
            XksAssert.Ok(await hsm.GetKeyMetadataAsync(live.Info.KeyId));

            // The management API: a key cannot be made in the missing token (503, a clear problem);
            // software keys can.
            var (status, problem) = await CreateKeyViaAdminAsync(live, demoStoreId, "not-made");
            Assert.Equal(503, status);
            Assert.Equal("HSM unavailable", (string?)problem!["title"]);
            Assert.Contains("PKCS#11 token", (string?)problem["detail"], StringComparison.Ordinal);
            await live.CreateKeyAsync(soft.Id, "soft-key-2", "ENCRYPT", "DECRYPT");

            // Fixing the configuration and restarting brings the same keys back.
            live = await live.RestartAsync(o => o.Pkcs11!.TokenLabel = label);
            Assert.DoesNotContain(live.Logs.Lines, l => l.Contains("[1103]", StringComparison.Ordinal));
            hsm = XksClient.For(live);
            Assert.Equal(plaintext, (await hsm.DecryptAsync(live.Info.KeyId, before)).Bytes("plaintext"));
            Assert.Equal("ACTIVE", HealthOf(await hsm.HealthAsync()));
        }
        finally
        {
            await live.DisposeAsync();
        }
    }

    [Fact]
    public async Task Coffer_dev_with_a_wrong_token_label_refuses_to_start_and_says_the_HSM_is_unavailable()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            DevServer.StartAsync(o => o.Pkcs11!.TokenLabel = "no-such-token", backend: KeyStoreBackends.Pkcs11));

        Assert.Contains("demo objects", error.Message, StringComparison.Ordinal);
        Assert.Contains("503", error.Message, StringComparison.Ordinal);
        Assert.Contains("HSM unavailable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pkcs11_options_naming_a_missing_module_stop_the_start_with_every_problem_named()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => DevServer.StartAsync(o =>
        {
            o.Pkcs11!.ModulePath = "/nonexistent/libpkcs11.so";
            o.Pkcs11.SessionPoolSize = 0;
        }, backend: KeyStoreBackends.Pkcs11));

        Assert.Contains("Pkcs11:ModulePath '/nonexistent/libpkcs11.so' does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("Pkcs11:SessionPoolSize must be 1..1024", error.Message, StringComparison.Ordinal);
    }
}
