using System.Buffers;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Coffer.Audit;
using Coffer.Server.Hosting;

namespace Coffer.Server.Audit.Sinks;

/// <summary>
/// Sends records to a syslog receiver as RFC 5424 messages over TCP, octet-counted (RFC 6587
/// §3.4.1), optionally over TLS (RFC 5425) — see <see cref="SyslogFormat"/>.
/// </summary>
/// <remarks>
/// TCP syslog has no acknowledgement of its own: a batch counts as delivered once it is written to a
/// connection the receiver has not closed. A reader on each connection notices the receiver's close
/// (a syslog receiver never sends anything), so the next batch goes to a new connection instead of
/// into a dead one.
/// </remarks>
internal sealed class SyslogSink : IAuditSink
{
    private readonly SyslogSinkOptions _options;
    private readonly TimeProvider _time;
    private readonly int _facility;
    private readonly string _procId = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    private readonly X509Certificate2? _ca;
    private readonly X509Certificate2Collection? _clientCertificates;
    private Connection? _connection;

    public SyslogSink(SyslogSinkOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _facility = SyslogFormat.TryParseFacility(options.Facility, out var facility)
            ? facility
            : throw new InvalidOperationException($"Audit.Syslog.Facility '{options.Facility}' is not a syslog facility.");
        // Loaded once at start, so a wrong path fails start-up, not every retry. The key is never logged.
        _ca = options.CaPath is null ? null : X509CertificateLoader.LoadCertificateFromFile(options.CaPath);
        _clientCertificates = options.ClientCertificatePath is null ? null : [LoadClientCertificate(options)];
        Target = (options.Tls ? "tls://" : "tcp://") + options.Host + ":" + options.Port.ToString(CultureInfo.InvariantCulture);
    }

    public string Name => "syslog";

    public string Target { get; }

    public async Task DeliverAsync(IReadOnlyList<AuditRecord> records, CancellationToken ct)
    {
        var frames = new ArrayBufferWriter<byte>(records.Count * 1024);
        foreach (var record in records)
        {
            SyslogFormat.WriteFrame(frames, record, _facility, _procId);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        try
        {
            if (_connection is null || !await _connection.IsOpenAsync())
            {
                await CloseAsync();
                _connection = await ConnectAsync(timeout.Token);
            }

            await _connection.Stream.WriteAsync(frames.WrittenMemory, timeout.Token);
            await _connection.Stream.FlushAsync(timeout.Token);
        }
        catch (Exception e)
        {
            // Whatever was half-written dies with the connection; the forwarder sends the batch again.
            await CloseAsync();
            if (e is OperationCanceledException && !ct.IsCancellationRequested)
            {
                throw new TimeoutException($"The syslog receiver {Target} did not take the batch within {_options.TimeoutSeconds} s.", e);
            }

            throw;
        }
    }

    private async Task<Connection> ConnectAsync(CancellationToken ct)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(_options.Host!, _options.Port, ct);
            Stream stream = client.GetStream();
            if (_options.Tls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = _options.ServerName ?? _options.Host,
                    ClientCertificates = _clientCertificates,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors),
                }, ct);
            }

            return new Connection(client, stream);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>RFC 5425 §5.2: the receiver's certificate must match its name and chain to the
    /// configured CA (only that CA, when one is set) or to the system store.</summary>
    private bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (_ca is null || certificate is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf) && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(_ca.RawDataMemory.Span);
    }

    private static X509Certificate2 LoadClientCertificate(SyslogSinkOptions options)
    {
        var path = options.ClientCertificatePath!;
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            var password = options.ClientPasswordEnvironmentVariable is null ? null : Environment.GetEnvironmentVariable(options.ClientPasswordEnvironmentVariable);
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }

        return X509Certificate2.CreateFromPemFile(path, options.ClientKeyPath ?? throw new InvalidOperationException("Audit.Syslog.ClientCertificatePath (PEM) needs ClientKeyPath."));
    }

    private async Task CloseAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _ca?.Dispose();
        if (_clientCertificates is not null)
        {
            foreach (var certificate in _clientCertificates)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>An open connection and the reader that notices when the receiver closes it.</summary>
    private sealed class Connection : IAsyncDisposable
    {
        private readonly TcpClient _client;
        private readonly Task _reader;
        private volatile bool _closed;

        public Connection(TcpClient client, Stream stream)
        {
            _client = client;
            Stream = stream;
            _reader = Task.Run(WatchAsync);
        }

        public Stream Stream { get; }

        /// <summary>
        /// False when the receiver closed or reset the connection. Asked before each batch so a batch
        /// is not written into a connection that is already gone (it would vanish with the reset):
        /// the socket itself is asked too, since the reader may not have run yet.
        /// </summary>
        public async Task<bool> IsOpenAsync()
        {
            for (var i = 0; i < 20 && !_closed; i++)
            {
                var socket = _client.Client;
                if (!socket.Poll(0, SelectMode.SelectRead))
                {
                    return true;
                }

                if (socket.Available == 0)
                {
                    return false; // readable with nothing to read: end of stream or an error
                }

                // TLS bytes (a session ticket, a close_notify) the reader has yet to take.
                await Task.Delay(10);
            }

            return !_closed;
        }

        private async Task WatchAsync()
        {
            var scratch = new byte[256];
            try
            {
                // A syslog receiver sends nothing (a TLS stack may send tickets, which SslStream takes
                // itself); end of stream or an error means it is gone.
                while (await Stream.ReadAsync(scratch) > 0)
                {
                }
            }
            catch (Exception)
            {
                // Reset, disposed or broken: all mean the connection is over.
            }
            finally
            {
                _closed = true;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _closed = true;
            await Stream.DisposeAsync();
            _client.Dispose();
            await _reader;
        }
    }
}
