using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Server.Tests.Management;

/// <summary>Calls and checks of the management API as a client sees it: status codes, JSON and
/// RFC 7807 problems. Responses are read as JSON nodes, not the server's own records, so a renamed
/// wire field fails here.</summary>
internal static class ManagementApi
{
    public const string ProblemContentType = "application/problem+json";

    /// <summary>A name nobody else in the shared node uses (1..64 of [A-Za-z0-9._-]).</summary>
    public static string Unique(string stem) => $"{stem}-{Guid.NewGuid():N}"[..Math.Min(stem.Length + 1 + 20, 64)];

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient http, string path, object body) =>
        http.PostAsJsonAsync(path, body);

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient http, string path, string body, string contentType = "application/json") =>
        http.PostAsync(path, new StringContent(body, Encoding.UTF8, contentType));

    /// <summary>Asserts the status and that the body is JSON; returns it.</summary>
    public static async Task<JsonNode> JsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text) ?? throw new Xunit.Sdk.XunitException("null JSON body");
    }

    /// <summary>Asserts an RFC 7807 problem: the status, the problem+json content type, and
    /// status/title/detail members that say what happened; returns the problem.</summary>
    public static async Task<JsonNode> ProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(ProblemContentType, response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text) ?? throw new Xunit.Sdk.XunitException("null problem body");
        Assert.Equal((int)expected, (int?)problem["status"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]), $"problem without title: {text}");
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]), $"problem without detail: {text}");
        return problem;
    }

    public static async Task<JsonNode> CreateKeyStoreAsync(this HttpClient admin, string? name = null, string? prefix = null)
    {
        name ??= Unique("ks");
        using var response = await admin.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = prefix ?? "/" + name });
        return await response.JsonAsync(HttpStatusCode.Created);
    }

    public static async Task<JsonNode> AddCredentialAsync(this HttpClient admin, string keyStoreId)
    {
        using var response = await admin.PostAsync($"/api/v1/keystores/{keyStoreId}/credentials", null);
        return await response.JsonAsync(HttpStatusCode.Created);
    }

    public static async Task<JsonNode> CreateKeyAsync(this HttpClient admin, string keyStoreId, object body)
    {
        using var response = await admin.PostJsonAsync($"/api/v1/keystores/{keyStoreId}/keys", body);
        return await response.JsonAsync(HttpStatusCode.Created);
    }

    public static async Task<JsonNode> GetJsonAsync(this HttpClient admin, string path)
    {
        using var response = await admin.GetAsync(path);
        return await response.JsonAsync(HttpStatusCode.OK);
    }

    /// <summary>A client of the same node with another (or no) Authorization header.</summary>
    public static HttpClient ClientWith(DevServer node, string? authorization)
    {
        var http = new HttpClient { BaseAddress = node.Server.AdminUrl };
        if (authorization is not null)
        {
            http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        return http;
    }

    public static string[] Strings(JsonNode? array) => [.. array!.AsArray().Select(n => (string)n!)];
}
