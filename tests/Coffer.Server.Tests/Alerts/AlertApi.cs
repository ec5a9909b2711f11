using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;

namespace Coffer.Server.Tests.Alerts;

/// <summary>The alerts API as a client uses it, and a receiver's own check of a signature.</summary>
internal static class AlertApi
{
    public static async Task<JsonNode> AddWebhookAsync(this HttpClient admin, string url, params string[] events)
    {
        using var response = await admin.PostJsonAsync("/api/v1/alerts/webhooks", new { url, events });
        return await response.JsonAsync(HttpStatusCode.Created);
    }

    public static async Task<JsonArray> DeliveriesAsync(this HttpClient admin, string? query = null) =>
        (await admin.GetJsonAsync("/api/v1/alerts/deliveries" + (query is null ? "" : "?" + query)))["deliveries"]!.AsArray();

    /// <summary>Polls the deliveries until <paramref name="condition"/> holds: delivery runs on its own
    /// loop, so its progress can only be observed, not awaited.</summary>
    public static async Task<JsonArray> WaitForDeliveriesAsync(this HttpClient admin, string webhookId, Func<JsonArray, bool> condition, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var deliveries = await admin.DeliveriesAsync("webhook=" + webhookId);
            if (condition(deliveries))
            {
                return deliveries;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"The deliveries never reached the expected state: {deliveries.ToJsonString()}");
            }

            await Task.Delay(20);
        }
    }

    public static bool All(JsonArray deliveries, string state, int count) =>
        deliveries.Count == count && deliveries.All(d => (string?)d!["state"] == state);

    /// <summary>The receiver's side, written from docs/alerts.md's recipe (not the server's signer):
    /// split <c>t=…,v1=…</c>, HMAC-SHA256 over "t.body" keyed with the secret's UTF-8 bytes, compare
    /// in constant time.</summary>
    public static bool Verifies(string header, string body, string secret, out long timestamp)
    {
        timestamp = 0;
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1)
            || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out timestamp))
        {
            return false;
        }

        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(t + "." + body));
        byte[] given;
        try
        {
            given = Convert.FromHexString(v1);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
