using System.Net;
using Coffer.Testing;

namespace Coffer.Server.Tests.Management;

/// <summary>POST /api/v1/sys/seal and what a sealed node answers (docs/design.md, "Key hierarchy":
/// sealed, Coffer serves nothing but status/unseal). Each test seals its own node.</summary>
public sealed class SealTests
{
    [Fact]
    public async Task Seal_without_a_token_is_a_401_problem_and_leaves_the_node_unsealed()
    {
        await using var node = await DevServer.StartAsync();
        using var anonymous = ManagementApi.ClientWith(node, null);
        using var response = await anonymous.PostAsync("/api/v1/sys/seal", null);
        await response.ProblemAsync(HttpStatusCode.Unauthorized);

        Assert.False(node.Server.IsSealed);
        using var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task After_seal_management_writes_are_503_sealed_problems()
    {
        await using var node = await DevServer.StartAsync();
        var admin = node.Admin;
        var store = (string)(await admin.CreateKeyStoreAsync())["id"]!;
        var credential = (string)(await admin.AddCredentialAsync(store))["id"]!;
        var key = (string)(await admin.CreateKeyAsync(store, new { name = "before-seal" }))["id"]!;
        var empty = (string)(await admin.CreateKeyStoreAsync())["id"]!;

        using (var seal = await admin.PostAsync("/api/v1/sys/seal", null))
        {
            var status = await seal.JsonAsync(HttpStatusCode.OK);
            Assert.True((bool)status["sealed"]!);
        }

        Assert.True(node.Server.IsSealed);
        var writes = new (string Method, string Path, object? Body)[]
        {
            ("POST", "/api/v1/keystores", new { name = ManagementApi.Unique("sealed"), uriPrefix = "/sealed-x" }),
            ("DELETE", $"/api/v1/keystores/{empty}", null),
            ("POST", $"/api/v1/keystores/{store}/credentials", null),
            ("DELETE", $"/api/v1/keystores/{store}/credentials/{credential}", null),
            ("GET", $"/api/v1/keystores/{store}/credentials/{credential}/aws-config", null),
            ("POST", $"/api/v1/keystores/{store}/keys", new { name = "after-seal" }),
            ("POST", $"/api/v1/keys/{key}/disable", null),
            ("POST", $"/api/v1/keys/{key}/enable", null),
        };
        foreach (var (method, path, body) in writes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                request.Content = System.Net.Http.Json.JsonContent.Create(body);
            }

            using var response = await admin.SendAsync(request);
            var problem = await response.ProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Contains("sealed", (string?)problem["title"] + " " + (string?)problem["detail"], StringComparison.OrdinalIgnoreCase);
        }

        // Nothing was written while sealed.
        var keyAfter = await admin.GetJsonAsync($"/api/v1/keys/{key}");
        Assert.Equal("enabled", (string?)keyAfter["status"]);
        var credentials = (await admin.GetJsonAsync($"/api/v1/keystores/{store}/credentials")).AsArray();
        Assert.Equal("live", (string?)Assert.Single(credentials)!["status"]);
        await admin.GetJsonAsync($"/api/v1/keystores/{empty}");
    }

    [Fact]
    public async Task Sealed_node_is_not_ready_but_alive_and_says_so_in_its_status()
    {
        await using var node = await DevServer.StartAsync();
        using var anonymous = ManagementApi.ClientWith(node, null);
        using (var before = await anonymous.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var seal = await node.Admin.PostAsync("/api/v1/sys/seal", null))
        {
            await seal.JsonAsync(HttpStatusCode.OK);
        }

        using var ready = await anonymous.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var health = await anonymous.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var status = await (await anonymous.GetAsync("/api/v1/sys/status")).JsonAsync(HttpStatusCode.OK);
        Assert.True((bool)status["sealed"]!);
        Assert.True((bool)status["initialized"]!);
        using var http = new HttpClient();
        using var ping = await http.GetAsync(new Uri(node.XksUrl, "/ping"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ping.StatusCode);
    }

    [Fact]
    public async Task Sealing_twice_is_harmless_and_a_restart_unseals_the_dev_seal()
    {
        var directory = Directory.CreateTempSubdirectory("coffer-seal-").FullName;
        try
        {
            var node = await DevServer.StartAsync(dataDirectory: directory);
            for (var i = 0; i < 2; i++)
            {
                using var seal = await node.Admin.PostAsync("/api/v1/sys/seal", null);
                Assert.True((bool)(await seal.JsonAsync(HttpStatusCode.OK))["sealed"]!);
            }

            await using var restarted = await node.RestartAsync();
            Assert.False(restarted.Server.IsSealed);
            using var ready = await restarted.Admin.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
