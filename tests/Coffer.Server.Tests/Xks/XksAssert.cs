using System.Text.Json;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>What every XKS answer must look like (XKS spec, "Error codes"; project doc: compact one-line JSON).</summary>
internal static class XksAssert
{
    /// <summary><paramref name="secret"/> with its first character changed (to 'x', or 'y' when it is
    /// already 'x': a random secret begins with 'x' one time in 64).</summary>
    public static string Wrong(string secret) => (secret[0] == 'x' ? "y" : "x") + secret[1..];

    public static void Error(XksResponse response, int status, string errorName)
    {
        Assert.True(response.Status == status && response.ErrorName == errorName,
            $"Expected {status} {errorName}, got {response}");
        WellFormedError(response);
    }

    /// <summary>200, application/json, compact one-line JSON; returns the JSON.</summary>
    public static JsonElement Ok(XksResponse response)
    {
        Assert.True(response.Status == 200, $"Expected 200, got {response}");
        CompactJson(response);
        return response.Json;
    }

    /// <summary>Body <c>{"errorName": ..., "errorMessage": ...}</c>, message under 512 printable ASCII characters.</summary>
    public static void WellFormedError(XksResponse response)
    {
        CompactJson(response);
        var json = response.Json;
        Assert.Equal(JsonValueKind.Object, json.ValueKind);
        Assert.Equal(["errorMessage", "errorName"], json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.String, json.GetProperty("errorName").ValueKind);
        var message = json.GetProperty("errorMessage").GetString()!;
        Assert.InRange(message.Length, 1, 511);
        Assert.All(message, c => Assert.InRange(c, ' ', '~'));
    }

    private static void CompactJson(XksResponse response)
    {
        Assert.StartsWith("application/json", response.ContentType ?? "", StringComparison.Ordinal);
        Assert.DoesNotContain('\n', response.Body);
        Assert.DoesNotContain('\r', response.Body);
        Assert.True(response.Json.ValueKind == JsonValueKind.Object, $"Not a JSON object: {response.Body}");
        Assert.True(WhitespaceOutsideStrings(response.Body) == 0, $"Not compact JSON: {response.Body}");
    }

    private static int WhitespaceOutsideStrings(string json)
    {
        var count = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                count++;
            }
        }

        return count;
    }
}
