using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer alert webhook add|list|remove</c> and <c>coffer alert deliveries</c> against a dev node.</summary>
public sealed class AlertCommandTests
{
    private static Action<CofferOptions> Fast => o => o.Alerts = new AlertOptions { PollMilliseconds = 20, FirstRetryDelayMilliseconds = 10, MaxRetryDelaySeconds = 1 };

    /// <summary>A loopback URL where nothing listens: every delivery fails with "connection refused".</summary>
    private static string ClosedUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/hook";
    }

    [Fact]
    public async Task Webhook_add_prints_the_secret_once_and_list_and_deliveries_show_the_failing_attempts()
    {
        await using var node = await DevServer.StartAsync(Fast);
        var url = ClosedUrl();

        var add = await Cli.RunAsync(node, "alert", "webhook", "add", url, "--event", "key.rotate", "--event", "key.version", "--json");
        Assert.True(add.ExitCode == 0, add.ToString());
        var id = add.Json.GetProperty("id").GetString()!;
        var secret = add.Json.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Contains("shown only now", add.Error, StringComparison.Ordinal);

        var list = await Cli.RunAsync(node, "alert", "webhook", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(id, list.Out, StringComparison.Ordinal);
        Assert.Contains("key.rotate, key.version", list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list.Out, StringComparison.Ordinal);

        Assert.Equal(0, (await Cli.RunAsync(node, "key", "rotate", "demo-key")).ExitCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement delivery;
        while (true)
        {
            var json = await Cli.RunAsync(node, "alert", "deliveries", "--webhook", id, "--json");
            var all = json.Json.GetProperty("deliveries");
            if (all.GetArrayLength() == 1 && (delivery = all[0]).GetProperty("attempts").GetInt32() >= 1)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "no attempt was made: " + json);
            await Task.Delay(20);
        }

        Assert.Equal("key.rotate", delivery.GetProperty("type").GetString());
        var pending = await Cli.RunAsync(node, "alert", "deliveries", "--state", "pending");
        Assert.True(pending.ExitCode == 0, pending.ToString());
        Assert.Matches(@"evt_\d+\s+key\.rotate\s+" + id + @"\s+pending\s+\d+", pending.Out);
        Assert.Contains("refused", pending.Out, StringComparison.OrdinalIgnoreCase);

        var remove = await Cli.RunAsync(node, "alert", "webhook", "remove", id);
        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.DoesNotContain(id, (await Cli.RunAsync(node, "alert", "webhook", "list")).Out, StringComparison.Ordinal);
        var failed = await Cli.RunAsync(node, "alert", "deliveries", "--state", "failed");
        Assert.Contains("webhook removed", failed.Out, StringComparison.Ordinal);
        Assert.Equal("No deliveries.", (await Cli.RunAsync(node, "alert", "deliveries", "--state", "delivered")).Out.Trim());
    }

    [Fact]
    public async Task Webhook_add_refuses_plain_http_to_another_host_and_says_why()
    {
        await using var node = await DevServer.StartAsync(Fast);

        var add = await Cli.RunAsync(node, "alert", "webhook", "add", "http://alerts.example.com/hook");

        Assert.Equal(1, add.ExitCode);
        Assert.Contains("must use https", add.Error, StringComparison.Ordinal);
        Assert.Contains("(all)", (await Cli.RunAsync(node, "alert", "webhook", "add", "https://alerts.example.com/hook")).Out, StringComparison.Ordinal);
    }
}
