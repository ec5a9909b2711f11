using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Coffer.Testing;

/// <summary>
/// HTTP/1.1 over a bare TCP connection, for requests no HTTP library sends: a malformed chunk size, a
/// body shorter than its Content-Length, a body that trickles, raw bytes in a path or a header.
/// </summary>
public sealed class RawHttpConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawHttpConnection(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects to the host and port of <paramref name="server"/>.</summary>
    public static async Task<RawHttpConnection> OpenAsync(Uri server)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(server.Host, server.Port);
            return new RawHttpConnection(tcp);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="text"/> as UTF-8, exactly as written (the test writes every CRLF).</summary>
    public async Task SendAsync(string text)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(text));
        await _stream.FlushAsync();
    }

    /// <summary>Half-closes the connection: the server reads the end of the stream, the answer can still come back.</summary>
    public void EndSending() => _tcp.Client.Shutdown(SocketShutdown.Send);

    /// <summary>Reads until the server closes the connection, or until <paramref name="timeout"/>
    /// (then <see cref="RawHttpAnswer.Closed"/> is false).</summary>
    public async Task<RawHttpAnswer> ReadUntilClosedAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        var closed = false;
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer, deadline.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            closed = true;
        }
        catch (IOException)
        {
            closed = true; // reset by the server
        }
        catch (OperationCanceledException)
        {
        }

        return new RawHttpAnswer(Encoding.UTF8.GetString(received.ToArray()), closed);
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>What a <see cref="RawHttpConnection"/> received, and whether the server closed the connection.</summary>
public sealed record RawHttpAnswer(string Text, bool Closed)
{
    /// <summary>The status of the first response, or null when the server answered nothing.</summary>
    public int? Status => Text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal)
        ? int.Parse(Text.AsSpan(9, 3), CultureInfo.InvariantCulture)
        : null;

    public override string ToString() => Closed ? $"{Text}(closed)" : $"{Text}(still open)";
}
