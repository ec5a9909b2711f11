using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Console.Tests;

/// <summary>What a test sets up or checks through the management API beside the browser: its own key
/// stores (so tests on a shared node stay apart), tokens of other roles, users, and the stored state a
/// page must (or must not) have changed.</summary>
internal static class AdminCalls
{
    /// <summary>A key store of its own with a key <paramref name="keyName"/> and a credential, and an XKS
    /// client signing with that credential.</summary>
    public static async Task<(string Id, string Name, XksClient Xks)> NewKeyStoreAsync(DevServer node, string stem, string keyName)
    {
        var name = $"{stem}-{Guid.NewGuid():N}"[..(stem.Length + 9)];
        var store = await SendAsync(node, HttpMethod.Post, "/api/v1/keystores", new { name, uriPrefix = "/" + name });
        var id = (string)store["id"]!;
        await SendAsync(node, HttpMethod.Post, $"/api/v1/keystores/{id}/keys", new { name = keyName });
        var credential = await SendAsync(node, HttpMethod.Post, $"/api/v1/keystores/{id}/credentials");
        var xks = new XksClient(new Uri(node.XksUrl, $"/{name}/kms/xks/v1"), (string)credential["accessKeyId"]!, (string)credential["secretAccessKey"]!);
        return (id, name, xks);
    }

    /// <summary>A management token of <paramref name="role"/>.</summary>
    public static async Task<string> TokenAsync(DevServer node, string role) =>
        (string)(await SendAsync(node, HttpMethod.Post, "/api/v1/tokens", new { name = $"console {role}", role }))["token"]!;

    /// <summary>A new user with one role and these groups, and a token the user owns.</summary>
    public static async Task<(string Id, string Token)> UserAsync(DevServer node, string name, string role, params string[] groups)
    {
        var id = (string)(await SendAsync(node, HttpMethod.Post, "/api/v1/users", new { name, roles = new[] { new { role } }, groups }))["id"]!;
        return (id, (string)(await SendAsync(node, HttpMethod.Post, "/api/v1/tokens", new { name = "token of " + name, owner = id }))["token"]!);
    }

    /// <summary>A new key in the node's dev key store (the one <see cref="XksClient.For"/> calls); returns its id.</summary>
    public static async Task<string> NewKeyAsync(DevServer node, string name) =>
        (string)(await SendAsync(node, HttpMethod.Post, $"/api/v1/keystores/{await DevKeyStoreAsync(node)}/keys", new { name }))["id"]!;

    /// <summary>The id of the node's dev key store.</summary>
    public static async Task<string> DevKeyStoreAsync(DevServer node) =>
        (string)(await GetAsync(node, "/api/v1/keystores")).AsArray().Single(s => (string?)s!["uriPrefix"] == node.Info.UriPrefix)!["id"]!;

    public static Task<JsonNode> GetAsync(DevServer node, string path) => SendAsync(node, HttpMethod.Get, path);

    /// <summary>Sends with the node's administrator token and insists on success.</summary>
    public static Task<JsonNode> SendAsync(DevServer node, HttpMethod method, string path, object? body = null) =>
        SendAsync(node.Admin, method, path, body);

    /// <summary>Sends with <paramref name="client"/>'s token and insists on success.</summary>
    public static async Task<JsonNode> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text.Length == 0 ? "{}" : text)!;
    }

    /// <summary>A client whose every call carries this bearer token.</summary>
    public static HttpClient ClientWith(DevServer node, string token)
    {
        var client = new HttpClient { BaseAddress = node.Server.AdminUrl };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
