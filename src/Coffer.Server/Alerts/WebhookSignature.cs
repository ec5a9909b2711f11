using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Coffer.Server.Alerts;

/// <summary>
/// The <c>Coffer-Signature</c> header, Stripe's scheme (docs/alerts.md):
/// <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;." + body)&gt;</c>. The key is the
/// secret's UTF-8 bytes as shown at creation; the timestamp inside the MAC lets a receiver refuse replays.
/// </summary>
internal static class WebhookSignature
{
    public const string Header = "Coffer-Signature";

    public const string EventIdHeader = "Coffer-Event-Id";

    public const string EventTypeHeader = "Coffer-Event-Type";

    /// <summary>The header value for <paramref name="body"/> signed at <paramref name="at"/>.</summary>
    public static string Create(ReadOnlySpan<byte> secret, DateTimeOffset at, ReadOnlySpan<byte> body)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prefix = Encoding.ASCII.GetBytes(t + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        var mac = HMACSHA256.HashData(secret, signed);
        return "t=" + t + ",v1=" + Convert.ToHexStringLower(mac);
    }
}
