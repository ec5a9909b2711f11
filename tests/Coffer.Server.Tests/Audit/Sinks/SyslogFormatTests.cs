using System.Buffers;
using System.Text;
using Coffer.Audit;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.Hosting;
using Coffer.Testing;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Tests.Audit.Sinks;

/// <summary>The RFC 5424 rendering where a value could break the header, and the configuration a
/// node refuses to start with.</summary>
public sealed class SyslogFormatTests
{
    [Fact]
    public void A_node_or_action_outside_printable_ASCII_cannot_shift_the_header_fields()
    {
        var record = AuditRecord.Create(new AuditEvent { Action = "xks.encrypt evil", Outcome = AuditOutcome.Denied, Details = "ü" },
            7, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), "node one\nforged", AuditRecord.GenesisHash);
        var output = new ArrayBufferWriter<byte>();

        SyslogFormat.WriteFrame(output, record, facility: 10, procId: "42");

        var frame = Encoding.UTF8.GetString(output.WrittenSpan);
        var space = frame.IndexOf(' ', StringComparison.Ordinal);
        Assert.Equal(output.WrittenCount - space - 1, int.Parse(frame[..space], System.Globalization.CultureInfo.InvariantCulture));
        var message = SyslogReceiver.Parse(output.WrittenSpan[(space + 1)..].ToArray());
        Assert.NotNull(message);
        Assert.Equal((10, 4), (message.Facility, message.Severity));
        Assert.Equal("node_one_forged", message.Hostname);
        Assert.Equal("xks.encrypt_evil", message.MsgId);
        Assert.Equal("2023-11-14T22:13:20.123Z", message.Timestamp);
        Assert.Equal("7", message.Params["seq"]);
        Assert.Equal("ü", (string?)message.Json["details"]);
    }

    [Theory]
    [InlineData("authpriv", 10)]
    [InlineData("LOCAL7", 23)]
    [InlineData("0", 0)]
    [InlineData("23", 23)]
    public void Facilities_are_taken_by_name_or_number(string text, int expected)
    {
        Assert.True(SyslogFormat.TryParseFacility(text, out var facility));
        Assert.Equal(expected, facility);
    }

    [Theory]
    [InlineData("24")]
    [InlineData("local8")]
    [InlineData("")]
    public void Other_facilities_are_refused(string text) => Assert.False(SyslogFormat.TryParseFacility(text, out _));

    [Fact]
    public async Task A_node_refuses_to_start_with_a_syslog_sink_without_a_host_or_a_file_sink_with_a_tiny_limit()
    {
        var noHost = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            DevServer.StartAsync(o => o.Audit.Syslog = new SyslogSinkOptions { Enabled = true, Facility = "local0" }));
        var tiny = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            DevServer.StartAsync(o => o.Audit.File = new FileSinkOptions { Enabled = true, MaxFileBytes = 10 }));

        Assert.Contains("Audit:Syslog:Host is required", noHost.Message, StringComparison.Ordinal);
        Assert.Contains("MaxFileBytes", tiny.Message, StringComparison.Ordinal);
    }
}
