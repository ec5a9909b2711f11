using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Coffer.Bench;

/// <summary>
/// The "rules100" scenario's setup (100 rules on a key store should stay within 10 % of none): puts
/// 100 deny rules that never match the bench's calls, then one allow rule, on the demo key store of a
/// running `coffer dev` through its management API, so every call walks all 101 rules. Cleared after.
/// </summary>
public static class AccessRules100
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, UseCookies = false })
    { Timeout = TimeSpan.FromSeconds(30) };

    public static Task ApplyAsync(string dataDir) => SendAsync(dataDir, HttpMethod.Put, Document());

    public static Task ClearAsync(string dataDir) => SendAsync(dataDir, HttpMethod.Delete, null);

    /// <summary>Rules that look at the request the way real ones do (principal patterns, accounts,
    /// VPC endpoints, regions), none matching the bench's eu-west-1 calls; then one allow.</summary>
    private static string Document()
    {
        var rules = Enumerable.Range(0, 100).Select(i => (i % 4) switch
        {
            0 => $"{{\"name\":\"deny-principal-{i}\",\"effect\":\"deny\",\"awsPrincipalArn\":[\"arn:aws:iam::{i:D12}:role/*\"]}}",
            1 => $"{{\"name\":\"deny-account-{i}\",\"effect\":\"deny\",\"awsAccount\":[\"{i:D12}\"]}}",
            2 => $"{{\"name\":\"deny-vpce-{i}\",\"effect\":\"deny\",\"awsSourceVpce\":[\"vpce-{i:x8}\"]}}",
            _ => $"{{\"name\":\"deny-region-{i}\",\"effect\":\"deny\",\"kmsKeyRegion\":[\"us-*\",\"ap-south-{i}\"]}}",
        });
        return "{\"rules\":[" + string.Join(',', rules) + ",{\"name\":\"allow-eea\",\"effect\":\"allow\",\"kmsKeyRegion\":[\"eea\"]}]}";
    }

    private static async Task SendAsync(string dataDir, HttpMethod method, string? body)
    {
        using var dev = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dataDir, "dev.json")));
        var admin = dev.RootElement.GetProperty("adminUrl").GetString()!.TrimEnd('/');
        var token = dev.RootElement.GetProperty("adminToken").GetString()!;

        using var list = new HttpRequestMessage(HttpMethod.Get, admin + "/api/v1/keystores");
        list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var stores = await Http.SendAsync(list);
        using var json = JsonDocument.Parse(await stores.Content.ReadAsStringAsync());
        var id = json.RootElement.EnumerateArray().First(s => s.GetProperty("name").GetString() == "demo").GetProperty("id").GetString();

        using var request = new HttpRequestMessage(method, $"{admin}/api/v1/keystores/{id}/policy");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new BenchException($"{method} access rules: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
