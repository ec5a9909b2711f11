using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Server.Tests.Management;

/// <summary>A node whose key versions make at most ten encryptions, so a few XKS calls use most of a budget.</summary>
public sealed class SmallBudgetNode : IAsyncLifetime
{
    public const long Budget = 10;

    public DevServer Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await DevServer.StartAsync(o => o.Xks.MaxEncryptionsPerKeyVersion = Budget);

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>GET /api/v1/keys/attention (docs/console.md, "Overview"): versions expiring within the days
/// asked, and versions past the share of their encryption budget asked, each with why it is listed; a
/// key waiting for destruction is not listed.</summary>
public sealed class KeyAttentionTests(SmallBudgetNode shared) : IClassFixture<SmallBudgetNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public async Task Versions_near_their_expiry_or_budget_are_listed_with_why_and_others_are_not()
    {
        var store = (string)(await Node.Admin.GetJsonAsync("/api/v1/keys?q=" + Node.Info.KeyId))["keys"]![0]!["keyStoreId"]!;
        var expiring = await KeyWithExpiryAsync(store, "soon", TimeSpan.FromDays(5));
        var later = await KeyWithExpiryAsync(store, "later", TimeSpan.FromDays(60));
        var leaving = await KeyWithExpiryAsync(store, "leaving", TimeSpan.FromDays(5));
        using (var scheduled = await Node.Admin.PostJsonAsync($"/api/v1/keys/{leaving}/schedule-destruction", new { waitingPeriodDays = 7 }))
        {
            await scheduled.JsonAsync(HttpStatusCode.OK);
        }

        var spent = (string)(await Node.Admin.CreateKeyAsync(store, new { name = "spent" }))["id"]!;
        var xks = XksClient.For(Node);
        for (var i = 0; i < SmallBudgetNode.Budget - 1; i++)
        {
            Assert.Equal(200, (await xks.EncryptAsync("spent", RandomNumberGenerator.GetBytes(32))).Status);
        }

        var listed = Versions(await Node.Admin.GetJsonAsync("/api/v1/keys/attention"));

        Assert.Equal("expiry", listed[expiring]["why"]);
        Assert.Equal("1", listed[expiring]["version"]);
        Assert.Equal("budget", listed[spent]["why"]);
        Assert.True(double.Parse(listed[spent]["budgetUsed"], System.Globalization.CultureInfo.InvariantCulture) >= 0.8);
        Assert.False(listed.ContainsKey(later));
        Assert.False(listed.ContainsKey(leaving));

        var wider = Versions(await Node.Admin.GetJsonAsync("/api/v1/keys/attention?expiringWithinDays=90&budgetPercent=100"));
        Assert.True(wider.ContainsKey(later));
        Assert.False(wider.ContainsKey(spent));
    }

    [Fact]
    public async Task A_budget_share_out_of_range_is_a_400_naming_it()
    {
        using var response = await Node.Admin.GetAsync("/api/v1/keys/attention?budgetPercent=120");
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("budgetPercent", (string?)problem["detail"], StringComparison.Ordinal);
    }

    private async Task<string> KeyWithExpiryAsync(string store, string name, TimeSpan expiresIn)
    {
        var id = (string)(await Node.Admin.CreateKeyAsync(store, new { name }))["id"]!;
        using var dated = await Node.Admin.PutAsJsonAsync($"/api/v1/keys/{id}/versions/1/dates", new { deactivatesAt = DateTimeOffset.UtcNow + expiresIn });
        await dated.JsonAsync(HttpStatusCode.OK);
        return id;
    }

    /// <summary>Each listed key's fields as text, by key id.</summary>
    private static Dictionary<string, Dictionary<string, string>> Versions(JsonNode answer) =>
        answer["versions"]!.AsArray().GroupBy(v => (string)v!["keyId"]!).ToDictionary(
            g => g.Key, g => g.First()!.AsObject().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!.ToString()));
}
