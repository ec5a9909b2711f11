using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace Coffer.Bench;

/// <summary>Minimal HTTP/1.1 client: one keep-alive socket, no pipelining, request bytes pre-built
/// (headers + body) so a send is one syscall. Parses just enough of the response (status,
/// Content-Length or chunked, Connection: close) to find its end. Loopback only.</summary>
public sealed class RawClientFactory : IClientFactory
{
    public string Name => "raw-socket HTTP/1.1 (keep-alive, no pipelining)";
    public IClientConnection Open() => new RawConnection();
    public void Dispose() { }
}

/// <param name="source">The local address to connect from (e.g. 127.0.0.2); the system's choice when null.</param>
public sealed class RawConnection(IPAddress? source = null) : IClientConnection
{
    private readonly byte[] _buf = new byte[64 * 1024];
    private Socket? _socket;
    private int _start, _end;          // unread bytes are _buf[_start.._end)

    public string? LastErrorBody { get; private set; }

    // Pooled state machines: no allocation per request in the timed loop.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> SendAsync(PreparedRequest request, CancellationToken ct)
    {
        if (_socket is null) await ConnectAsync(request.Uri, ct);
        try
        {
            await _socket!.SendAsync(request.Raw, SocketFlags.None, ct);
            return await ReadResponseAsync(ct);
        }
        catch
        {
            Close();
            throw;
        }
    }

    private async ValueTask ConnectAsync(Uri uri, CancellationToken ct)
    {
        if (!IPAddress.IsLoopback(IPAddress.Parse(uri.Host))) throw new InvalidOperationException("loopback only");
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (source is not null) s.Bind(new IPEndPoint(source, 0));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        await s.ConnectAsync(new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port), timeout.Token);
        _socket = s;
        _start = _end = 0;
    }

    // Pooled state machines: no allocation per request in the timed loop.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadResponseAsync(CancellationToken ct)
    {
        int headerEnd;
        while ((headerEnd = IndexOf(_buf.AsSpan(_start, _end - _start), "\r\n\r\n"u8)) < 0)
            await FillAsync(ct);
        var head = _buf.AsSpan(_start, headerEnd);
        var status = ((head[9] - '0') * 100) + ((head[10] - '0') * 10) + (head[11] - '0');
        long contentLength = -1;
        bool chunked = false, close = false;
        foreach (var line in new LineEnumerator(head))
        {
            if (StartsWithIgnoreCase(line, "content-length:"u8))
                System.Buffers.Text.Utf8Parser.TryParse(line[15..].Trim((byte)' '), out contentLength, out _);
            else if (StartsWithIgnoreCase(line, "transfer-encoding:"u8)) chunked = Contains(line, "chunked"u8);
            else if (StartsWithIgnoreCase(line, "connection:"u8)) close = Contains(line, "close"u8);
        }
        _start += headerEnd + 4;
        var capture = status != 200;
        if (chunked) await ReadChunkedAsync(capture, ct);
        else if (contentLength > 0) await SkipAsync(contentLength, capture, ct);
        if (close) Close();
        return status;
    }

    private async ValueTask ReadChunkedAsync(bool capture, CancellationToken ct)
    {
        while (true)
        {
            int lineEnd;
            while ((lineEnd = IndexOf(_buf.AsSpan(_start, _end - _start), "\r\n"u8)) < 0) await FillAsync(ct);
            var sizeText = Encoding.ASCII.GetString(_buf, _start, lineEnd).Split(';')[0].Trim();
            var size = Convert.ToInt64(sizeText, 16);
            _start += lineEnd + 2;
            if (size == 0)
            {
                // Trailers (none expected) end with an empty line.
                while (true)
                {
                    while ((lineEnd = IndexOf(_buf.AsSpan(_start, _end - _start), "\r\n"u8)) < 0) await FillAsync(ct);
                    _start += lineEnd + 2;
                    if (lineEnd == 0) return;
                }
            }
            await SkipAsync(size, capture, ct);
            capture = false;
            await SkipAsync(2, false, ct);
        }
    }

    private async ValueTask SkipAsync(long count, bool capture, CancellationToken ct)
    {
        if (capture)
        {
            while (_end - _start < Math.Min(count, 512)) await FillAsync(ct);
            LastErrorBody = Encoding.UTF8.GetString(_buf, _start, (int)Math.Min(count, 512));
        }
        while (count > 0)
        {
            if (_end == _start) await FillAsync(ct);
            var take = (int)Math.Min(count, _end - _start);
            _start += take;
            count -= take;
        }
    }

    // Pooled state machines: no allocation per request in the timed loop.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync(CancellationToken ct)
    {
        if (_start == _end) _start = _end = 0;
        else if (_end == _buf.Length)
        {
            if (_start == 0) throw new InvalidDataException("response header larger than buffer");
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        var n = await _socket!.ReceiveAsync(_buf.AsMemory(_end), SocketFlags.None, ct);
        if (n == 0) throw new IOException("server closed the connection");
        _end += n;
    }

    private static int IndexOf(ReadOnlySpan<byte> hay, ReadOnlySpan<byte> needle) => hay.IndexOf(needle);
    private static bool Contains(ReadOnlySpan<byte> line, ReadOnlySpan<byte> word) =>
        Encoding.ASCII.GetString(line).Contains(Encoding.ASCII.GetString(word), StringComparison.OrdinalIgnoreCase);
    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> line, ReadOnlySpan<byte> prefix)
    {
        if (line.Length < prefix.Length) return false;
        for (var i = 0; i < prefix.Length; i++)
            if ((line[i] | 0x20) != (prefix[i] | 0x20)) return false;
        return true;
    }

    private void Close()
    {
        _socket?.Dispose();
        _socket = null;
        _start = _end = 0;
    }

    public void Dispose() => Close();

    /// <summary>Splits a header block into lines without allocating.</summary>
    private ref struct LineEnumerator(ReadOnlySpan<byte> rest)
    {
        private ReadOnlySpan<byte> _rest = rest;
        public ReadOnlySpan<byte> Current { get; private set; }
        public readonly LineEnumerator GetEnumerator() => this;
        public bool MoveNext()
        {
            if (_rest.IsEmpty) return false;
            var i = _rest.IndexOf("\r\n"u8);
            Current = i < 0 ? _rest : _rest[..i];
            _rest = i < 0 ? [] : _rest[(i + 2)..];
            return true;
        }
    }
}
