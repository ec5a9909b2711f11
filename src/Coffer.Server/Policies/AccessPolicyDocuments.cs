using System.Text.Json;
using Coffer.Policies;

namespace Coffer.Server.Policies;

/// <summary>Reading and writing rule documents as JSON text, strictly (unknown fields refused).</summary>
internal static class AccessPolicyDocuments
{
    /// <summary>Null on success; else the field at fault and why, from the JSON reader.</summary>
    public static AccessPolicyError? TryRead(string json, out AccessPolicyDocument? document)
    {
        document = null;
        try
        {
            document = JsonSerializer.Deserialize(json, AccessPolicyJson.Default.AccessPolicyDocument);
        }
        catch (JsonException e)
        {
            return FromJson(e);
        }

        return document is null ? new AccessPolicyError("$", "The rule document is a JSON object: {\"rules\": [...]}.") : null;
    }

    public static async Task<(AccessPolicyDocument? Document, AccessPolicyError? Error)> ReadAsync(Stream body, CancellationToken ct)
    {
        try
        {
            var document = await JsonSerializer.DeserializeAsync(body, AccessPolicyJson.Default.AccessPolicyDocument, ct);
            return document is null
                ? (null, new AccessPolicyError("$", "The rule document is a JSON object: {\"rules\": [...]}."))
                : (document, null);
        }
        catch (JsonException e)
        {
            return (null, FromJson(e));
        }
    }

    /// <summary>The canonical stored text: compact, absent matchers left out.</summary>
    public static string Write(AccessPolicyDocument document) => JsonSerializer.Serialize(document, AccessPolicyJson.Default.AccessPolicyDocument);

    /// <summary>The JSON reader's message names the property for unknown fields and the path for
    /// type errors; neither carries more of the input than a property name.</summary>
    public static AccessPolicyError FromJson(JsonException e) =>
        new(string.IsNullOrEmpty(e.Path) ? "$" : e.Path, Message(e));

    private static string Message(JsonException e)
    {
        var message = e.Message;
        if (message.Contains("could not be mapped", StringComparison.Ordinal) && message.Split('\'') is [_, var field, ..])
        {
            return $"Unknown field '{field}'; see docs/access-rules.md for the fields a rule document has.";
        }

        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        message = cut > 0 ? message[..cut] : message;
        return message.Length > 300 ? message[..300] : message;
    }
}
