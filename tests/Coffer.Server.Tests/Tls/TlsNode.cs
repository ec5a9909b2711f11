using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Coffer.Testing;

namespace Coffer.Server.Tests.Tls;

/// <summary>A dev node whose XKS listener serves TLS with the test PKI's server certificate; mTLS
/// (client CA and subject) when the subclass asks for it.</summary>
public class TlsNode : IAsyncLifetime
{
    private readonly bool _mutual;

    public TlsNode()
        : this(mutual: false)
    {
    }

    protected TlsNode(bool mutual) => _mutual = mutual;

    public Certificates Pki { get; private set; } = null!;

    public DevServer Node { get; private set; } = null!;

    /// <summary>https://127.0.0.1:port of the XKS listener.</summary>
    public Uri XksUrl => Node.XksUrl;

    public async Task InitializeAsync()
    {
        Pki = Certificates.Create();
        Node = await DevServer.StartAsync(options =>
        {
            options.Xks.AllowPlainHttp = false;
            options.Xks.Tls.CertificatePath = Pki.Server.CertificatePath;
            options.Xks.Tls.KeyPath = Pki.Server.KeyPath;
            if (_mutual)
            {
                options.Xks.Tls.ClientCaPath = Pki.Ca.CertificatePath;
                options.Xks.Tls.ClientSubject = Certificates.AwsClientSubject;
            }
        });
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        Pki.Dispose();
    }

    /// <summary>TLS options that trust only the test CA (and check the host name), with an optional
    /// client certificate and protocol or cipher restrictions.</summary>
    public SslClientAuthenticationOptions ClientOptions(X509Certificate2? clientCertificate = null, SslProtocols protocols = SslProtocols.None, CipherSuitesPolicy? suites = null)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = protocols,
            CipherSuitesPolicy = suites,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0 && Pki.IsIssuedByCa(certificate),
        };
        if (clientCertificate is not null)
        {
            options.ClientCertificates = [clientCertificate];
            // Send this certificate whatever CA names the server lists (it may list none).
            options.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return options;
    }

    /// <summary>An HTTP/1.1 client of the XKS listener with <see cref="ClientOptions"/>.</summary>
    public HttpClient Client(X509Certificate2? clientCertificate = null, SslProtocols protocols = SslProtocols.None)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = ClientOptions(clientCertificate, protocols),
            PooledConnectionLifetime = TimeSpan.Zero,
        };
        var http = new HttpClient(handler)
        {
            BaseAddress = new Uri($"https://localhost:{XksUrl.Port}"),
            DefaultRequestVersion = new Version(1, 1),
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return http;
    }

    /// <summary>curl's arguments to trust the test CA and present a client certificate.</summary>
    public string[] CurlTls(PemCertificate? client) =>
        client is null
            ? ["--cacert", Pki.Ca.CertificatePath]
            : ["--cacert", Pki.Ca.CertificatePath, "--cert", client.CertificatePath, "--key", client.KeyPath];
}

/// <summary>A TLS node that requires a client certificate from the test CA with subject
/// <see cref="Certificates.AwsClientSubject"/>.</summary>
public sealed class MutualTlsNode() : TlsNode(mutual: true);
