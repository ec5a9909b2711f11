using System.Text;
using Coffer.Server.Alerts;

namespace Coffer.Server.Tests.Alerts;

/// <summary>The Coffer-Signature header against a value computed outside .NET (Python's
/// <c>hmac.new(b"whsec_test", b"1700000000." + body, "sha256").hexdigest()</c>), so docs/alerts.md's
/// recipe and the server agree byte for byte.</summary>
public sealed class WebhookSignatureTests
{
    [Fact]
    public void The_header_is_t_and_the_hex_HMAC_SHA256_of_t_dot_body_under_the_secret()
    {
        var header = WebhookSignature.Create(Encoding.UTF8.GetBytes("whsec_test"), DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
            Encoding.UTF8.GetBytes("{\"id\":\"evt_1\"}"));

        Assert.Equal("t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925", header);
    }

    [Theory]
    [InlineData("https://hooks.example.com/x", null)]
    [InlineData("http://127.0.0.1:8080/x", null)]
    [InlineData("http://[::1]:8080/x", null)]
    [InlineData("http://localhost/x", null)]
    [InlineData("http://10.0.0.1/x", "https")]
    [InlineData("https://hooks.example.com/x#frag", "fragment")]
    [InlineData("mailto:ops@example.com", "https")]
    public void Only_https_or_http_to_loopback_is_a_webhook_url(string url, string? problem)
    {
        var check = WebhookUrl.Check(url);

        if (problem is null)
        {
            Assert.Null(check);
        }
        else
        {
            Assert.Contains(problem, check, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Logs_name_a_webhook_by_scheme_host_and_port_only()
    {
        Assert.Equal("https://hooks.example.com:8443", WebhookUrl.Redacted("https://hooks.example.com:8443/T0KEN/path?token=abc"));
    }
}
