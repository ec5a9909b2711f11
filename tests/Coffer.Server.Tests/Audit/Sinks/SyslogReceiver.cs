using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Coffer.Server.Tests.Audit.Sinks;

/// <summary>One RFC 5424 message as a receiver parsed it (RFC 5424 §6: header, one SD element, MSG).</summary>
internal sealed record SyslogMessage(
    int Facility, int Severity, string Timestamp, string Hostname, string AppName, string ProcId, string MsgId,
    string SdId, IReadOnlyDictionary<string, string> Params, string RawStructuredData, bool Bom, string Msg)
{
    public long Sequence => long.Parse(Params["seq"], CultureInfo.InvariantCulture);

    public JsonNode Json => JsonNode.Parse(Msg)!;
}

/// <summary>
/// A syslog receiver on loopback written from the RFCs, independently of the product: TCP with
/// octet-counted frames (RFC 6587 §3.4.1), optionally TLS (RFC 5425). It can stop (closing every
/// connection) and start again on the same port, keeping what it received.
/// </summary>
internal sealed class SyslogReceiver : IAsyncDisposable
{
    private readonly X509Certificate2? _certificate;
    private readonly bool _requireClientCertificate;
    private readonly List<SyslogMessage> _messages = [];
    private readonly List<TcpClient> _clients = [];
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    private SyslogReceiver(X509Certificate2? certificate, bool requireClientCertificate)
    {
        _certificate = certificate;
        _requireClientCertificate = requireClientCertificate;
    }

    public int Port { get; private set; }

    /// <summary>Subject of every client certificate presented (TLS with a required certificate).</summary>
    public List<string> ClientSubjects { get; } = [];

    /// <summary>Frames that did not parse; a correct sender leaves this empty.</summary>
    public List<string> Malformed { get; } = [];

    public IReadOnlyList<SyslogMessage> Messages
    {
        get
        {
            lock (_lock)
            {
                return [.. _messages];
            }
        }
    }

    public static SyslogReceiver Start(X509Certificate2? certificate = null, bool requireClientCertificate = false)
    {
        var receiver = new SyslogReceiver(certificate, requireClientCertificate);
        receiver.Listen(0);
        return receiver;
    }

    /// <summary>Starts listening again on the same port.</summary>
    public void Restart() => Listen(Port);

    private void Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _listener = listener;
        _accepting = AcceptAsync(listener);
    }

    /// <summary>Closes the listener and every connection: the sender sees the receiver go away.</summary>
    public async Task StopAsync()
    {
        _listener?.Stop();
        _listener = null;
        lock (_lock)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            _clients.Clear();
        }

        await _accepting;
    }

    /// <summary>Waits until the received messages satisfy <paramref name="condition"/>; woken by each
    /// frame, so no fixed sleep. Fails after <paramref name="seconds"/> with what arrived.</summary>
    public async Task WaitForAsync(Func<IReadOnlyList<SyslogMessage>, bool> condition, int seconds = 30)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition(_messages))
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                var got = Messages.Select(m => m.Sequence);
                throw new Xunit.Sdk.XunitException($"The syslog receiver did not get what was expected in {seconds} s; it has: {string.Join(',', got)}; malformed: {Malformed.Count}");
            }
        }
    }

    /// <summary>Waits until every record 1..<paramref name="head"/> arrived.</summary>
    public Task WaitForSequenceAsync(long head) => WaitForAsync(m => m.Count > 0 && m.Max(x => x.Sequence) >= head);

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            lock (_lock)
            {
                _clients.Add(client);
            }

            _ = ReadAsync(client);
        }
    }

    private async Task ReadAsync(TcpClient client)
    {
        try
        {
            Stream stream = client.GetStream();
            if (_certificate is not null)
            {
                var tls = new SslStream(stream);
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ClientCertificateRequired = _requireClientCertificate,
                    // The test checks the subject itself; chain trust is the sender's side under test.
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => !_requireClientCertificate || certificate is not null,
                });
                if (tls.RemoteCertificate is { } presented)
                {
                    lock (_lock)
                    {
                        ClientSubjects.Add(presented.Subject);
                    }
                }

                stream = tls;
            }

            while (await ReadFrameAsync(stream) is { } frame)
            {
                var message = Parse(frame);
                lock (_lock)
                {
                    if (message is null)
                    {
                        Malformed.Add(Encoding.UTF8.GetString(frame));
                    }
                    else
                    {
                        _messages.Add(message);
                    }

                    _changed.TrySetResult();
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
        }
    }

    /// <summary>MSG-LEN SP SYSLOG-MSG (RFC 6587 §3.4.1); null at a clean end of stream.</summary>
    private static async Task<byte[]?> ReadFrameAsync(Stream stream)
    {
        var length = 0;
        var one = new byte[1];
        var digits = 0;
        while (true)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return digits == 0 ? null : throw new IOException("The stream ended inside MSG-LEN.");
            }

            if (one[0] == (byte)' ')
            {
                break;
            }

            if (one[0] is < (byte)'0' or > (byte)'9' || (digits == 0 && one[0] == '0') || ++digits > 9)
            {
                throw new IOException("MSG-LEN is not a number.");
            }

            length = (length * 10) + (one[0] - '0');
        }

        var frame = new byte[length];
        await stream.ReadExactlyAsync(frame);
        return frame;
    }

    /// <summary>Parses SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG] (RFC 5424 §6); null when malformed.</summary>
    internal static SyslogMessage? Parse(byte[] frame)
    {
        var bom = new byte[] { 0xEF, 0xBB, 0xBF };
        var text = Encoding.UTF8.GetString(frame);
        var position = 0;
        string Field()
        {
            var space = text.IndexOf(' ', position);
            var value = text[position..space];
            position = space + 1;
            return value;
        }

        try
        {
            if (text[0] != '<')
            {
                return null;
            }

            var close = text.IndexOf('>', StringComparison.Ordinal);
            var pri = int.Parse(text.AsSpan(1, close - 1), NumberStyles.None, CultureInfo.InvariantCulture);
            position = close + 1;
            if (Field() != "1")
            {
                return null;
            }

            var (timestamp, hostname, app, procId, msgId) = (Field(), Field(), Field(), Field(), Field());
            foreach (var header in new[] { hostname, app, procId, msgId })
            {
                if (header.Length == 0 || header.Any(c => c is < '!' or > '~'))
                {
                    return null;
                }
            }

            // SD-ELEMENT = "[" SD-ID *(SP SD-PARAM) "]"; PARAM-VALUE escapes '"', '\' and ']' (§6.3.3).
            if (text[position] != '[')
            {
                return null;
            }

            var sdStart = position;
            position++;
            var idEnd = text.IndexOfAny([' ', ']'], position);
            var sdId = text[position..idEnd];
            position = idEnd;
            var parameters = new Dictionary<string, string>();
            while (text[position] == ' ')
            {
                var equals = text.IndexOf('=', position);
                var name = text[(position + 1)..equals];
                if (text[equals + 1] != '"')
                {
                    return null;
                }

                var value = new StringBuilder();
                position = equals + 2;
                while (text[position] != '"')
                {
                    if (text[position] == '\\' && text[position + 1] is '"' or '\\' or ']')
                    {
                        position++;
                    }
                    else if (text[position] is ']' or '"')
                    {
                        return null;
                    }

                    value.Append(text[position++]);
                }

                parameters.Add(name, value.ToString());
                position++;
            }

            if (text[position] != ']' || text[position + 1] != ' ')
            {
                return null;
            }

            var rawSd = text[sdStart..(position + 1)];
            var msgBytes = Encoding.UTF8.GetByteCount(text[..(position + 2)]);
            var hasBom = frame.AsSpan(msgBytes).StartsWith(bom);
            var msg = Encoding.UTF8.GetString(frame.AsSpan(msgBytes + (hasBom ? 3 : 0)));
            return new SyslogMessage(pri / 8, pri % 8, timestamp, hostname, app, procId, msgId, sdId, parameters, rawSd, hasBom, msg);
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
    }
}
