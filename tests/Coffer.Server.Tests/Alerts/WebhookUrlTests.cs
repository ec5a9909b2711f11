using System.Net;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Alerts;

/// <summary>
/// A webhook URL that is not https (or http on loopback) is refused and adds nothing. The cases share
/// one node: none of them may add a webhook, so each also checks that no case before it did.
/// </summary>
public sealed class WebhookUrlTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Theory]
    [InlineData("http://example.com/hook", "https")]
    [InlineData("ftp://127.0.0.1/hook", "https")]
    [InlineData("https://user:password@example.com/hook", "user name or password")]
    [InlineData("/relative/hook", "absolute")]
    [InlineData("", "absolute")]
    public async Task A_webhook_url_that_is_not_https_or_loopback_http_is_refused_and_nothing_is_added(string url, string message)
    {
        using var response = await Node.Admin.PostJsonAsync("/api/v1/alerts/webhooks", new { url });
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains(message, (string)problem["detail"]!, StringComparison.Ordinal);
        Assert.Empty((await Node.Admin.GetJsonAsync("/api/v1/alerts/webhooks")).AsArray());
    }
}
