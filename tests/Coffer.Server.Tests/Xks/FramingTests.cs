using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// Malformed HTTP framing — a chunk size that is no number or overflows, a body shorter than its
/// Content-Length, a body slower than Kestrel's minimum data rate — is the caller's doing and is found
/// before any authentication: it gets a 4xx (ValidationException while an answer is still possible) or
/// a closed connection, never 500 InternalException, and never an error-level log line, so nobody can
/// fill the log with stack traces. Tests of this class run one after another on their own node.
/// </summary>
public sealed class FramingTests(SoftwareXksNode fixture) : IClassFixture<SoftwareXksNode>
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private DevServer Node => fixture.Node;

    private string Head(string framing) =>
        $"POST /demo/kms/xks/v1/keys/{fixture.DemoKey}/encrypt HTTP/1.1\r\nHost: {Node.XksUrl.Authority}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n";

    [Theory]
    [InlineData("zz")]
    [InlineData("ffffffffffffffff")]
    public async Task Malformed_chunk_size_is_ValidationException_and_closes_the_connection(string size)
    {
        var answer = await CallAsync(async connection =>
            await connection.SendAsync(Head("Transfer-Encoding: chunked") + $"{size}\r\n{{}}\r\n0\r\n\r\n"));

        Assert.True(answer.Status == 400, $"Expected 400, got: {answer}");
        Assert.Contains("\"errorName\":\"ValidationException\"", answer.Text, StringComparison.Ordinal);
        // The rest of the bytes must never be read as a next request (request smuggling).
        Assert.True(answer.Closed, $"The connection stayed open after a framing error: {answer}");
        AssertNoErrorLogged();
    }

    [Fact]
    public async Task Body_shorter_than_its_Content_Length_is_a_closed_connection_or_4xx()
    {
        var answer = await CallAsync(async connection =>
        {
            await connection.SendAsync(Head("Content-Length: 100") + "{\"requestMetadata\":");
            connection.EndSending();
        });

        AssertClosedOr4xx(answer);
        AssertNoErrorLogged();
    }

    [Fact]
    public async Task Body_slower_than_the_minimum_data_rate_is_a_closed_connection_or_4xx()
    {
        // Kestrel's MinRequestBodyDataRate (240 bytes/s after a 5 s grace period): one byte of a
        // thousand, then nothing. The server gives up on the body, not the test on the server.
        var answer = await CallAsync(async connection => await connection.SendAsync(Head("Content-Length: 1000") + "{"));

        AssertClosedOr4xx(answer);
        AssertNoErrorLogged();
    }

    /// <summary>Sends a request on a connection of its own, reads until the server closes it, and waits
    /// for the call's log line (written when the handler is done with it).</summary>
    private async Task<RawHttpAnswer> CallAsync(Func<RawHttpConnection, Task> send)
    {
        var callsBefore = CallLines();
        RawHttpAnswer answer;
        await using (var connection = await RawHttpConnection.OpenAsync(Node.XksUrl))
        {
            await send(connection);
            answer = await connection.ReadUntilClosedAsync(AnswerTimeout);
        }

        await Wait.UntilAsync(() => CallLines() > callsBefore, "the call's log line (event 2000)");
        return answer;
    }

    private int CallLines() => Node.Logs.Lines.Count(l => l.Contains("[2000] ", StringComparison.Ordinal));

    private static void AssertClosedOr4xx(RawHttpAnswer answer)
    {
        Assert.True(answer.Closed, $"The server neither answered nor closed the connection: {answer}");
        Assert.True(answer.Status is null or (>= 400 and < 500), $"Expected a closed connection or 4xx, got: {answer}");
    }

    private void AssertNoErrorLogged()
    {
        var errors = Node.Logs.Lines.Where(l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        Assert.Empty(errors);
    }
}
