using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Console.Tests;

/// <summary>What a test sets up or checks through the management API with the node's root token, as the CLI would.</summary>
internal static class AdminCalls
{
    public static async Task<JsonNode> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    public static Task<JsonNode> GetAsync(DevServer node, string path) => SendAsync(node.Admin, HttpMethod.Get, path);

    /// <summary>A new user with one role and these groups, and a token the user owns.</summary>
    public static async Task<(string Id, string Token)> UserAsync(DevServer node, string name, string role, params string[] groups)
    {
        var user = await SendAsync(node.Admin, HttpMethod.Post, "/api/v1/users", new { name, roles = new[] { new { role } }, groups }, HttpStatusCode.Created);
        var id = (string)user["id"]!;
        var token = await SendAsync(node.Admin, HttpMethod.Post, "/api/v1/tokens", new { name = "token of " + name, owner = id }, HttpStatusCode.Created);
        return (id, (string)token["token"]!);
    }

    /// <summary>A new key in the node's dev key store (the one <see cref="XksClient.For"/> calls); returns its id.</summary>
    public static async Task<string> NewKeyAsync(DevServer node, string name) =>
        (string)(await SendAsync(node.Admin, HttpMethod.Post, $"/api/v1/keystores/{await DevKeyStoreAsync(node)}/keys", new { name }, HttpStatusCode.Created))["id"]!;

    /// <summary>The id of the node's dev key store.</summary>
    public static async Task<string> DevKeyStoreAsync(DevServer node) =>
        (string)(await GetAsync(node, "/api/v1/keystores")).AsArray().Single(s => (string?)s!["uriPrefix"] == node.Info.UriPrefix)!["id"]!;

    /// <summary>A client whose every call carries this bearer token.</summary>
    public static HttpClient ClientWith(DevServer node, string token)
    {
        var client = new HttpClient { BaseAddress = node.Server.AdminUrl };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
