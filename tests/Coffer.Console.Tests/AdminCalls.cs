using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Console.Tests;

/// <summary>What a test sets up or checks through the management API beside the browser: its own key
/// stores (so tests on a shared node stay apart), tokens of other roles, and the stored state a page
/// must (or must not) have changed.</summary>
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

    public static Task<JsonNode> GetAsync(DevServer node, string path) => SendAsync(node, HttpMethod.Get, path);

    /// <summary>Sends with the node's administrator token and insists on success.</summary>
    public static async Task<JsonNode> SendAsync(DevServer node, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await node.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text.Length == 0 ? "{}" : text)!;
    }
}
