using System.Globalization;
using System.Net;
using Coffer.Testing;

namespace Coffer.Server.Tests.Infrastructure;

/// <summary>docs/haproxy.cfg in front of two real nodes: TCP passthrough, /ping health checks.</summary>
public sealed class HaproxyTests
{
    private const int Requests = 12;

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Traffic_reaches_both_nodes_and_moves_to_the_other_when_one_stops()
    {
        await using var first = await DevServer.StartAsync();
        var second = await DevServer.StartAsync();
        await using var haproxy = await HaproxyProcess.StartAsync([first.XksUrl.Port, second.XksUrl.Port]);

        Assert.All(await PingThroughAsync(haproxy), status => Assert.Equal(HttpStatusCode.OK, status));
        await Wait.UntilAsync(() => haproxy.Log.Contains("coffer_xks/node1 ", StringComparison.Ordinal) && haproxy.Log.Contains("coffer_xks/node2 ", StringComparison.Ordinal), "connections to both nodes in HAProxy's log");

        await second.DisposeAsync();
        await Wait.UntilAsync(() => haproxy.Log.Contains("coffer_xks/node2 is DOWN", StringComparison.Ordinal), "HAProxy to mark the stopped node down");

        Assert.All(await PingThroughAsync(haproxy), status => Assert.Equal(HttpStatusCode.OK, status));
    }

    [Fact]
    public async Task A_sealed_node_answering_503_gets_no_more_traffic()
    {
        await using var first = await DevServer.StartAsync();
        await using var second = await DevServer.StartAsync();
        await using var haproxy = await HaproxyProcess.StartAsync([first.XksUrl.Port, second.XksUrl.Port]);

        await SealAsync(second);
        using (var direct = await Http.GetAsync(new Uri(second.XksUrl, "ping")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, direct.StatusCode);
        }

        await Wait.UntilAsync(() => haproxy.Log.Contains("coffer_xks/node2 is DOWN", StringComparison.Ordinal), "HAProxy to mark the sealed node down");
        Assert.All(await PingThroughAsync(haproxy), status => Assert.Equal(HttpStatusCode.OK, status));
    }

    [Fact]
    public async Task Sessions_open_on_a_node_marked_down_are_shut_instead_of_reaching_it()
    {
        await using var first = await DevServer.StartAsync();
        await using var second = await DevServer.StartAsync();
        await using var haproxy = await HaproxyProcess.StartAsync([first.XksUrl.Port, second.XksUrl.Port]);
        // TCP mode: each connection is tied to a node (round robin) from the moment it opens.
        var through = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{haproxy.Port}/"));
        var connections = new List<RawHttpConnection>();
        for (var i = 0; i < 4; i++)
        {
            connections.Add(await RawHttpConnection.OpenAsync(through));
        }

        try
        {
            await SealAsync(second);
            await Wait.UntilAsync(() => haproxy.Log.Contains("coffer_xks/node2 is DOWN", StringComparison.Ordinal), "HAProxy to mark the sealed node down");
            var answers = new List<RawHttpAnswer>();
            foreach (var connection in connections)
            {
                await connection.SendAsync("GET /ping HTTP/1.1\r\nHost: coffer\r\nConnection: close\r\n\r\n");
                answers.Add(await connection.ReadUntilClosedAsync(TimeSpan.FromSeconds(10)));
            }

            // The sealed node's sessions were shut (nothing answers, not its 503); the other's still serve.
            Assert.All(answers, a => Assert.True(a.Status == 200 || (a.Status is null && a.Closed), a.ToString()));
            Assert.Contains(answers, a => a.Status is null);
            Assert.Contains(answers, a => a.Status == 200);
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_connection_refused_by_a_dead_node_not_yet_marked_down_is_redispatched_to_the_other()
    {
        await using var node = await DevServer.StartAsync();
        var dead = LoopbackPorts.Free(); // nothing listens there
        var port = LoopbackPorts.Free();
        // Unchecked, the dead node stays up, as a node does between its death and the check that notices it.
        var config = HaproxyProcess.StandardConfig(port, [node.XksUrl.Port, dead])
            .Replace(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{dead}\n"), string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{dead} no-check\n"), StringComparison.Ordinal);
        await using var haproxy = await HaproxyProcess.StartAsync(config, port);

        // Round robin sends every other connection to the dead node; each is retried on the live one.
        Assert.All(await PingThroughAsync(haproxy), status => Assert.Equal(HttpStatusCode.OK, status));
        // Without redispatch HAProxy drops them after 3 s of retries on the dead node and HttpClient
        // sends the ping again itself, so the statuses alone do not tell: HAProxy's log marks a
        // redispatched connection's retries with a '+'.
        await Wait.UntilAsync(() => haproxy.Log.Contains("/+1 ", StringComparison.Ordinal), "a redispatched connection (retries +1) in HAProxy's log");
    }

    [Fact]
    public void The_standard_configuration_is_the_documented_one_with_test_ports_and_timing()
    {
        var config = HaproxyProcess.StandardConfig(4000, [5001, 5002]);

        Assert.Contains("    bind 127.0.0.1:4000\n", config, StringComparison.Ordinal);
        Assert.Contains("    server node1 127.0.0.1:5001\n    server node2 127.0.0.1:5002\n", config, StringComparison.Ordinal);
        Assert.Contains("option httpchk GET /ping", config, StringComparison.Ordinal);
        Assert.Contains("on-marked-down shutdown-sessions", config, StringComparison.Ordinal);
        Assert.Contains(HaproxyProcess.TestCheckTiming, config, StringComparison.Ordinal);
        Assert.DoesNotContain("check-ssl", config, StringComparison.Ordinal);
        Assert.DoesNotContain("10.0.0.11", config, StringComparison.Ordinal);
    }

    private static async Task SealAsync(DevServer node)
    {
        using var seal = await node.Admin.PostAsync(new Uri("/api/v1/sys/seal", UriKind.Relative), null);
        seal.EnsureSuccessStatusCode();
    }

    // Each request on a new connection: HAProxy in TCP mode balances connections, not requests.
    private static async Task<HttpStatusCode[]> PingThroughAsync(HaproxyProcess haproxy)
    {
        var statuses = new HttpStatusCode[Requests];
        for (var i = 0; i < Requests; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{haproxy.Port}/ping"));
            request.Headers.ConnectionClose = true;
            using var response = await Http.SendAsync(request);
            statuses[i] = response.StatusCode;
        }

        return statuses;
    }
}
