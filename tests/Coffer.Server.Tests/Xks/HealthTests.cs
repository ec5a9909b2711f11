using System.Text.Json;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>XKS spec, GetHealthStatus, and the unauthenticated load-balancer ping.</summary>
public abstract class HealthTests(XksNodeFixture fixture)
{
    private readonly XksClient _xks = fixture.Client;

    [Fact]
    public async Task Health_answers_200_with_a_fleet_of_at_least_one_and_1_to_10_ACTIVE_ekm_entries()
    {
        var health = XksAssert.Ok(await _xks.HealthAsync());

        Assert.True(health.GetProperty("xksProxyFleetSize").GetInt32() >= 1);
        var fleet = health.GetProperty("ekmFleetDetails").EnumerateArray().ToList();
        Assert.InRange(fleet.Count, 1, 10);
        Assert.All(fleet, entry =>
        {
            Assert.Equal("ACTIVE", entry.GetProperty("healthStatus").GetString());
            Assert.False(string.IsNullOrEmpty(entry.GetProperty("id").GetString()));
            Assert.False(string.IsNullOrEmpty(entry.GetProperty("model").GetString()));
        });
        foreach (var name in new[] { "xksProxyVendor", "xksProxyModel", "ekmVendor" })
        {
            Assert.Equal(JsonValueKind.String, health.GetProperty(name).ValueKind);
            Assert.False(string.IsNullOrEmpty(health.GetProperty(name).GetString()));
        }
    }

    [Fact]
    public async Task Health_needs_only_kmsRequestId_and_kmsOperation_in_requestMetadata()
    {
        var body = XksRequests.Health();

        Assert.Equal(["kmsOperation", "kmsRequestId"], body["requestMetadata"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        XksAssert.Ok(await _xks.PostAsync("health", body));
    }

    [Fact]
    public async Task Health_of_a_key_store_without_keys_is_ACTIVE()
    {
        var store = await fixture.Node.CreateKeyStoreAsync("/" + Admin.Unique("empty"));

        var health = XksAssert.Ok(await store.Client.HealthAsync());

        Assert.Equal("ACTIVE", health.GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
    }

    [Fact]
    public async Task Health_with_a_bad_signature_is_AuthenticationFailedException()
    {
        var wrong = _xks with { SecretAccessKey = "not-the-secret-not-the-secret-not-the-secret-0000" };

        XksAssert.Error(await wrong.HealthAsync(), 401, "AuthenticationFailedException");
    }

    [Fact]
    public async Task Health_accepts_an_unknown_kmsOperation_value()
    {
        var body = XksRequests.Health();
        body["requestMetadata"]!["kmsOperation"] = "NotAnOperationYet";

        XksAssert.Ok(await _xks.PostAsync("health", body));
    }

    [Fact]
    public async Task Ping_without_authentication_answers_200_ok()
    {
        var ping = await XksClient.SendUnsignedAsync(HttpMethod.Get, new Uri(fixture.Node.XksUrl, "/ping"));

        Assert.Equal(200, ping.Status);
        Assert.Equal("ok", ping.Body.Trim());
    }
}
