using System.Text.Json;
using System.Text.RegularExpressions;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Logging;

/// <summary>
/// No value from a request can forge a log line: not the key id in an XKS path, a header, a
/// requestMetadata field, nor a management input. Each carries one character that could (CR, LF, ESC,
/// a C0 control, DEL, the C1 controls NEL and CSI, U+2028, U+2029), then a line that passes for one of
/// Coffer's. The console output, in text and in JSON (tests/Coffer.Testing/ConsoleLogs.cs), must write
/// each event as exactly one line, with none of those characters raw.
/// </summary>
public sealed partial class LogForgeryTests(SoftwareXksNode fixture) : IClassFixture<SoftwareXksNode>
{
    public static TheoryData<int> Characters() => [0x0d, 0x0a, 0x1b, 0x01, 0x7f, 0x85, 0x9b, 0x2028, 0x2029];

    private const string ForgedLine = "2026-12-07T00:00:00.000Z crit: Coffer.Server.Seal.SealManager[1002] Coffer sealed ";

    private DevServer Node => fixture.Node;

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trce|dbug|info|warn|fail|crit): ")]
    private static partial Regex EventStart();

    [Theory]
    [MemberData(nameof(Characters))]
    public async Task Key_id_in_the_XKS_path_cannot_forge_a_log_line(int code)
    {
        var payload = new Payload(code);

        // Unsigned: the key id reaches the call's line before any signature is checked.
        await SendAsync($"POST /demo/kms/xks/v1/keys/{Uri.EscapeDataString(payload.Value)}/metadata HTTP/1.1\r\n" +
            $"Host: {Node.XksUrl.Authority}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");

        await AssertOneLineEachEventAsync(payload);
        AssertCallLineCarriesItEscaped(payload);
    }

    [Theory]
    [MemberData(nameof(Characters))]
    public async Task Header_value_cannot_forge_a_log_line(int code)
    {
        var payload = new Payload(code);

        // The framework logs Content-Type with each request; Kestrel refuses what HTTP forbids in a
        // header (CR, LF, non-ASCII) before any handler runs, and may quote it in its own log.
        await SendAsync($"POST /demo/kms/xks/v1/keys/{payload.Marker}/metadata HTTP/1.1\r\nHost: {Node.XksUrl.Authority}\r\n" +
            $"Content-Type: application/json; {payload.Value}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");

        // A header Kestrel refused may be mentioned nowhere; what is logged obeys the same rules.
        await AssertOneLineEachEventAsync(payload, mentioned: false);
    }

    [Theory]
    [MemberData(nameof(Characters))]
    public async Task Request_metadata_cannot_forge_a_log_line(int code)
    {
        var payload = new Payload(code);
        var body = XksRequests.GetKeyMetadata(payload.Value);
        body["requestMetadata"]!["kmsOperation"] = payload.Value;
        body["requestMetadata"]!["awsPrincipalArn"] = payload.Value;

        XksAssert.Ok(await fixture.Client.PostAsync($"keys/{fixture.DemoKey}/metadata", body));

        await AssertOneLineEachEventAsync(payload);
        AssertCallLineCarriesItEscaped(payload, times: 3);
    }

    [Theory]
    [MemberData(nameof(Characters))]
    public async Task Management_input_cannot_forge_a_log_line(int code)
    {
        var payload = new Payload(code);

        using var response = await Node.Admin.GetAsync(new Uri($"/api/v1/keys/{Uri.EscapeDataString(payload.Value)}", UriKind.Relative));

        Assert.InRange((int)response.StatusCode, 400, 499);
        await AssertOneLineEachEventAsync(payload);
    }

    private async Task SendAsync(string request)
    {
        await using var connection = await RawHttpConnection.OpenAsync(Node.XksUrl);
        await connection.SendAsync(request);
        var answer = await connection.ReadUntilClosedAsync(TimeSpan.FromSeconds(30));
        Assert.True(answer.Status is not null, $"No answer: {answer}");
    }

    /// <summary>
    /// Every event that mentions the marker is one line of the text output and one line of the JSON
    /// output; every line is an event or an indented continuation of one (an exception); no line holds
    /// an unsafe character raw; and the forged part never stands on a line without the marker.
    /// </summary>
    private async Task AssertOneLineEachEventAsync(Payload payload, bool mentioned = true)
    {
        string[] text = [], json = [];
        var events = 0;
        await Wait.UntilAsync(() =>
        {
            events = Node.Logs.Lines.Count(l => MessageOf(l).Contains(payload.Marker, StringComparison.Ordinal));
            text = Node.ConsoleOutput.TextOutput().Split('\n');
            json = Node.ConsoleOutput.JsonOutput().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return (events > 0 || !mentioned)
                && text.Count(l => EventStart().IsMatch(l) && l.Contains(payload.Marker, StringComparison.Ordinal)) == events
                && json.Count(l => MessageOfJson(l).Contains(payload.Marker, StringComparison.Ordinal)) == events;
        }, "each event that mentions the marker on one line of each output");

        Assert.All(text[..^1], line =>
        {
            Assert.True(EventStart().IsMatch(line) || line.StartsWith("    ", StringComparison.Ordinal), $"Not an event nor a continuation line: {Visible(line)}");
            Assert.False(line.Any(IsUnsafe), $"A raw control or separator character: {Visible(line)}");
        });
        Assert.All(text.Where(l => l.Contains(payload.Forgery, StringComparison.Ordinal)), line =>
            Assert.Contains(payload.Marker, line, StringComparison.Ordinal));

        Assert.All(json, line =>
        {
            using var document = JsonDocument.Parse(line);
            foreach (var value in Strings(document.RootElement))
            {
                Assert.False(value.Where(c => c != '\n').Any(IsUnsafe), $"A raw control or separator character in {Visible(line)}");
            }
        });
        Assert.All(json.Where(l => MessageOfJson(l).Contains(payload.Forgery, StringComparison.Ordinal)), line =>
            Assert.Contains(payload.Marker, MessageOfJson(line), StringComparison.Ordinal));
    }

    /// <summary>Coffer's own line of the call (event 2000) carries the value in full, escaped — at the
    /// source already, before any sink (the captured event's message), and in the console's text.</summary>
    private void AssertCallLineCarriesItEscaped(Payload payload, int times = 1)
    {
        var line = Assert.Single(Node.ConsoleOutput.TextOutput().Split('\n'),
            l => l.Contains("[2000] ", StringComparison.Ordinal) && l.Contains(payload.Marker, StringComparison.Ordinal));
        Assert.Equal(times, Regex.Count(line, Regex.Escape(payload.Escaped)));

        var captured = Assert.Single(Node.Logs.Lines,
            l => l.Contains("[2000] ", StringComparison.Ordinal) && l.Contains(payload.Marker, StringComparison.Ordinal));
        Assert.Equal(times, Regex.Count(MessageOf(captured), Regex.Escape(payload.Escaped)));
    }

    /// <summary>The message of a captured event (<see cref="CapturedLogs"/> appends the values after " | ").</summary>
    private static string MessageOf(string captured) => captured[..captured.IndexOf(" | ", StringComparison.Ordinal)];

    private static string MessageOfJson(string line)
    {
        using var document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("message").GetString()!;
    }

    private static IEnumerable<string> Strings(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => [element.GetString()!],
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => Strings(p.Value)).ToList(),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Strings).ToList(),
        _ => [],
    };

    private static bool IsUnsafe(char c) => c < 0x20 || c is >= '\u007f' and <= '\u009f' or '\u2028' or '\u2029';

    private static string Visible(string line) => string.Concat(line.Select(c => IsUnsafe(c) ? $"<U+{(int)c:X4}>" : c.ToString()));

    /// <summary>A unique marker, the character, then a line that passes for Coffer's own with a second marker.</summary>
    private sealed record Payload(int Code)
    {
        public string Marker { get; } = "m" + Guid.NewGuid().ToString("N")[..12];

        public string Forgery { get; } = "forged" + Guid.NewGuid().ToString("N")[..12];

        public string Value => $"{Marker}{(char)Code}{ForgedLine}{Forgery}";

        /// <summary>How the value reads in the log: the character as <c>\xNN</c> or <c>\uNNNN</c>.</summary>
        public string Escaped => Marker + (Code < 0x100 ? $"\\x{Code:x2}" : $"\\u{Code:x4}") + ForgedLine + Forgery;
    }
}
