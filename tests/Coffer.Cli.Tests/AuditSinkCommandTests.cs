using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer audit sinks</c> against real nodes: the backlog and errors of each sink.</summary>
public sealed class AuditSinkCommandTests
{
    /// <summary>Runs <c>coffer audit sinks --json</c> until <paramref name="condition"/> holds for the
    /// first sink (the forwarder moves on its own schedule).</summary>
    private static async Task<JsonElement> WaitForSinkAsync(DevServer node, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var run = await Cli.RunAsync(node, "audit", "sinks", "--json");
            var sink = run.Json.GetProperty("sinks")[0];
            if (condition(sink))
            {
                return sink;
            }

            Assert.True(DateTime.UtcNow < deadline, "the sink never got there: " + run);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Sinks_says_when_none_is_configured()
    {
        await using var node = await DevServer.StartAsync();

        var run = await Cli.RunAsync(node, "audit", "sinks");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("No audit sinks are configured", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sinks_shows_a_caught_up_file_sink_and_exits_0()
    {
        await using var node = await DevServer.StartAsync(o => o.Audit.File = new FileSinkOptions { Enabled = true });
        var sink = await WaitForSinkAsync(node, s => s.GetProperty("backlog").GetInt64() == 0 && s.GetProperty("cursor").GetInt64() > 0);

        var run = await Cli.RunAsync(node, "audit", "sinks");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("file", sink.GetProperty("name").GetString());
        Assert.Equal(Path.Combine(node.DataDirectory, "audit.jsonl"), sink.GetProperty("target").GetString());
        Assert.Contains("BACKLOG", run.Out, StringComparison.Ordinal);
        Assert.Matches(@"file\s+\S+audit\.jsonl\s+(\d+)\s+0\s", run.Out);
    }

    [Fact]
    public async Task Sinks_shows_the_backlog_and_error_of_an_unreachable_receiver_and_exits_1()
    {
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        await using var node = await DevServer.StartAsync(o => o.Audit.Syslog = new SyslogSinkOptions
        {
            Enabled = true, Host = "127.0.0.1", Port = port, Tls = false, MaxRetryDelaySeconds = 1,
        });
        var sink = await WaitForSinkAsync(node, s => s.GetProperty("consecutiveFailures").GetInt32() > 0);

        var run = await Cli.RunAsync(node, "audit", "sinks");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(0, sink.GetProperty("cursor").GetInt64());
        Assert.Equal(sink.GetProperty("head").GetInt64(), sink.GetProperty("backlog").GetInt64());
        Assert.True(sink.GetProperty("backlog").GetInt64() > 0);
        Assert.Contains("tcp://127.0.0.1:" + port, run.Out, StringComparison.Ordinal);
        Assert.Contains("refused", run.Out, StringComparison.OrdinalIgnoreCase);
    }
}
