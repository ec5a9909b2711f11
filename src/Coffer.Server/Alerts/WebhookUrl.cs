using System.Net;

namespace Coffer.Server.Alerts;

/// <summary>Which webhook URLs Coffer sends to: https anywhere, plain http only to this machine.</summary>
internal static class WebhookUrl
{
    /// <summary>Null when <paramref name="text"/> is acceptable, else what is wrong with it (for a 400 problem).</summary>
    public static string? Check(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 2000 || !Uri.TryCreate(text, UriKind.Absolute, out var url))
        {
            return "url must be an absolute https URL of at most 2000 characters.";
        }

        if (url.Scheme is not ("https" or "http"))
        {
            return "url must be an absolute https URL.";
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            // Credentials in a URL end up in every list that shows it; receivers check the signature instead.
            return "url must not contain a user name or password; receivers authenticate deliveries by the Coffer-Signature header.";
        }

        if (!string.IsNullOrEmpty(url.Fragment))
        {
            return "url must not contain a fragment (#...).";
        }

        return url.Scheme == "https" || IsLoopback(url)
            ? null
            : "url must use https: events are sent only over TLS (plain http is accepted for loopback addresses only, for development).";
    }

    /// <summary>The host and port only: what logs name (a URL's path and query may carry a token).</summary>
    public static string Redacted(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : "(invalid url)";

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.IdnHost, out var address) && IPAddress.IsLoopback(address));
}
