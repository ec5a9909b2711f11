using System.Net.Http.Headers;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit.Sinks;

/// <summary>
/// The syslog sink against a receiver written from RFC 5424/6587/5425: records of real XKS
/// and management calls arrive in sequence order, framed, with the right severity, MSGID and escaped
/// structured data; a receiver that is down makes a backlog, never a gap.
/// </summary>
public sealed class SyslogSinkTests
{
    private const int Local0 = 16;

    private static Action<CofferOptions> Syslog(SyslogReceiver receiver, Action<SyslogSinkOptions>? more = null) => options =>
    {
        options.Audit.Syslog = new SyslogSinkOptions
        {
            Enabled = true,
            Host = "127.0.0.1",
            Port = receiver.Port,
            Tls = false,
            Facility = "local0",
            MaxRetryDelaySeconds = 1,
        };
        more?.Invoke(options.Audit.Syslog);
    };

    [Fact]
    public async Task Records_of_real_calls_arrive_in_order_with_severity_msgid_and_escaped_structured_data()
    {
        await using var receiver = SyslogReceiver.Start();
        await using var node = await DevServer.StartAsync(Syslog(receiver));
        var xks = XksClient.For(node);
        var tricky = "req-\"]\\-" + Guid.NewGuid().ToString("N");
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3], kmsRequestId: tricky));
        XksAssert.Error(await xks.EncryptAsync("no-such-key", [1]), 404, "KeyNotFoundException");
        using (var stranger = new HttpClient { BaseAddress = node.Admin.BaseAddress })
        {
            stranger.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "coffer_not-a-token");
            using var refused = await stranger.GetAsync("/api/v1/keystores");
        }

        var head = await node.Admin.WaitCaughtUpAsync("syslog");
        await receiver.WaitForSequenceAsync(head);
        var export = await node.Admin.ExportAsync();

        var messages = receiver.Messages;
        Assert.Empty(receiver.Malformed);
        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), messages.Select(m => m.Sequence));
        Assert.All(messages, m =>
        {
            var json = m.Json;
            var outcome = (string)json["outcome"]!;
            Assert.Equal(Local0, m.Facility);
            Assert.Equal(outcome switch { "ok" => 6, "requested" => 5, "denied" => 4, _ => 3 }, m.Severity);
            Assert.Equal((string)json["action"]!, m.MsgId);
            Assert.Equal("test-node", m.Hostname);
            Assert.Equal("coffer", m.AppName);
            Assert.Equal("coffer@32473", m.SdId);
            Assert.Equal(outcome, m.Params["outcome"]);
            Assert.Equal((string)json["hash"]!, m.Params["hash"]);
            Assert.True(m.Bom);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", m.Timestamp);
            Assert.Equal(export[m.Sequence], m.Msg);
        });

        Assert.DoesNotContain(messages, m => m.Msg.Contains(node.Info.SecretAccessKey, StringComparison.Ordinal)
            || m.RawStructuredData.Contains(node.Info.AdminToken, StringComparison.Ordinal) || m.Msg.Contains("coffer_not-a-token", StringComparison.Ordinal));
        var encrypt = Assert.Single(messages, m => m.Params.GetValueOrDefault("kmsRequestId") == tricky);
        Assert.Equal("xks.encrypt", encrypt.MsgId);
        Assert.Equal(6, encrypt.Severity);
        Assert.Equal(xks.AccessKeyId, encrypt.Params["actorId"]);
        Assert.Equal("eu-west-1", encrypt.Params["awsRegion"]);
        Assert.Contains("kmsRequestId=\"req-\\\"\\]\\\\-", encrypt.RawStructuredData, StringComparison.Ordinal);
        var notFound = Assert.Single(messages, m => m.Params.GetValueOrDefault("errorName") == "KeyNotFoundException");
        Assert.Equal(3, notFound.Severity);
        var denied = Assert.Single(messages, m => m.MsgId == "auth.failed");
        Assert.Equal(4, denied.Severity);
        Assert.Contains(messages, m => m.MsgId == "key.create" && m.Severity == 5);
    }

    [Fact]
    public async Task Over_TLS_the_receiver_is_checked_against_the_configured_CA_and_gets_the_client_certificate()
    {
        using var pki = Certificates.Create();
        await using var receiver = SyslogReceiver.Start(pki.Server.Certificate, requireClientCertificate: true);
        await using var node = await DevServer.StartAsync(Syslog(receiver, s =>
        {
            s.Tls = true;
            s.ServerName = "localhost";
            s.CaPath = pki.Ca.CertificatePath;
            s.ClientCertificatePath = pki.GoodClient.CertificatePath;
            s.ClientKeyPath = pki.GoodClient.KeyPath;
        }));

        XksAssert.Ok(await XksClient.For(node).EncryptAsync(node.Info.KeyId, [7]));
        var head = await node.Admin.WaitCaughtUpAsync("syslog");
        await receiver.WaitForSequenceAsync(head);

        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), receiver.Messages.Select(m => m.Sequence));
        Assert.Contains(receiver.Messages, m => m.MsgId == "xks.encrypt");
        Assert.Equal(Certificates.AwsClientSubject, Assert.Single(receiver.ClientSubjects.Distinct()));
        Assert.StartsWith("tls://", (string)(await node.Admin.SinkAsync("syslog"))["target"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_receiver_the_system_store_does_not_trust_gets_nothing_and_the_backlog_says_so()
    {
        using var pki = Certificates.Create();
        await using var receiver = SyslogReceiver.Start(pki.Server.Certificate);
        await using var node = await DevServer.StartAsync(Syslog(receiver, s => (s.Tls, s.ServerName) = (true, "localhost")));

        var sink = await node.Admin.WaitForSinkAsync("syslog", s => s["lastError"] is not null);

        Assert.Equal(0, (long)sink["cursor"]!);
        Assert.True((long)sink["backlog"]! > 0);
        Assert.True((int)sink["consecutiveFailures"]! > 0);
        Assert.Empty(receiver.Messages);
    }

    [Fact]
    public async Task A_receiver_that_is_down_makes_a_backlog_and_gets_every_record_in_order_when_it_returns()
    {
        await using var receiver = SyslogReceiver.Start();
        await using var node = await DevServer.StartAsync(Syslog(receiver));
        var xks = XksClient.For(node);
        var before = await node.Admin.WaitCaughtUpAsync("syslog");
        await receiver.WaitForSequenceAsync(before);

        await receiver.StopAsync();
        for (var i = 0; i < 5; i++)
        {
            XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [(byte)i]));
        }

        var waiting = await node.Admin.WaitForSinkAsync("syslog", s => (long)s["backlog"]! == 5 && s["lastError"] is not null);
        Assert.Equal(before, (long)waiting["cursor"]!);
        Assert.Equal(before + 5, (long)waiting["head"]!);

        receiver.Restart();
        var head = await node.Admin.WaitCaughtUpAsync("syslog");
        await receiver.WaitForSequenceAsync(head);

        Assert.Equal(before + 5, head);
        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), receiver.Messages.Select(m => m.Sequence));
        Assert.Equal(0, (int)(await node.Admin.SinkAsync("syslog"))["consecutiveFailures"]!);
    }

    [Fact]
    public async Task The_cursor_survives_a_restart_so_nothing_is_sent_twice_or_skipped()
    {
        await using var receiver = SyslogReceiver.Start();
        var node = await DevServer.StartAsync(Syslog(receiver));
        try
        {
            XksAssert.Ok(await XksClient.For(node).EncryptAsync(node.Info.KeyId, [1]));
            var first = await node.Admin.WaitCaughtUpAsync("syslog");
            await receiver.WaitForSequenceAsync(first);

            node = await node.RestartAsync();
            Assert.True((long)(await node.Admin.SinkAsync("syslog"))["cursor"]! >= first);
            XksAssert.Ok(await XksClient.For(node).EncryptAsync(node.Info.KeyId, [2]));
            var head = await node.Admin.WaitCaughtUpAsync("syslog");
            await receiver.WaitForSequenceAsync(head);

            // At-least-once: a record written while the node stopped may come twice, but nothing the
            // receiver had confirmed before the restart is sent again, and nothing is missing.
            var sequences = receiver.Messages.Select(m => m.Sequence).ToList();
            Assert.True(head > first + 1);
            Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), sequences.Distinct());
            Assert.Equal(first, sequences.Count(s => s <= first));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }
}
