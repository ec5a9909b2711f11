using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Authentication;
using Coffer.Testing;

namespace Coffer.Server.Tests.Tls;

/// <summary>TLS on the XKS listener (XKS spec, "Transport": HTTP/1.1 over TLS 1.2+ with
/// TLS_AES_256_GCM_SHA384 or TLS_CHACHA20_POLY1305_SHA256 (1.3) or ECDHE-(RSA|ECDSA)-AES256-GCM-SHA384
/// (1.2), nothing else).</summary>
[UnsupportedOSPlatform("windows")] // CipherSuitesPolicy
public sealed class TlsTests(TlsNode tls) : IClassFixture<TlsNode>
{
    private const string OpenSsl = "/usr/bin/openssl";

    private static readonly TlsCipherSuite[] SpecSuites =
    [
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ];

    [Fact]
    public async Task Https_with_the_test_CA_serves_ping_over_HTTP_1_1()
    {
        Assert.Equal("https", tls.XksUrl.Scheme);
        using var http = tls.Client();
        using var response = await http.GetAsync("/ping");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Version(1, 1), response.Version);
        Assert.Equal("ok", (await response.Content.ReadAsStringAsync()).Trim());
    }

    [Fact]
    public async Task Unsigned_XKS_call_over_TLS_reaches_the_XKS_handler()
    {
        using var http = tls.Client();
        using var response = await http.PostAsync("/demo/kms/xks/v1/keys/demo-key/metadata",
            new StringContent(Curl.MetadataBody(), System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("AuthenticationFailedException", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signed_XKS_call_over_TLS_succeeds_with_curl()
    {
        var info = tls.Node.Info;
        Assert.StartsWith("https://", info.XksBaseUrl, StringComparison.Ordinal);
        var result = await Curl.XksAsync(info.XksBaseUrl + "/keys/demo-key/metadata", info.AccessKeyId, info.SecretAccessKey,
            Curl.MetadataBody(), tls.CurlTls(null));

        Assert.True(result.HttpStatus == 200, $"curl exit {result.ExitCode}, HTTP {result.HttpStatus}: {result.Body} {result.Error}");
        Assert.Contains("\"keySpec\":\"AES_256\"", result.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_test_CA_rejects_the_server()
    {
        // Control for the validation callback: without the test CA the server's certificate is not trusted.
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri($"https://localhost:{tls.XksUrl.Port}/ping")));
    }

    [Fact]
    public async Task Plain_HTTP_on_the_TLS_port_gets_no_answer_from_Coffer()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{tls.XksUrl.Port}/ping"));
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("ok", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        catch (HttpRequestException)
        {
            // The connection was closed: also no answer.
        }
    }

    [Theory]
    [InlineData(SslProtocols.None)]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Negotiated_protocol_is_TLS_1_2_or_1_3_with_a_spec_cipher_suite(SslProtocols offered)
    {
        await using var ssl = await HandshakeAsync(offered, suites: null);

        Assert.Contains(ssl.SslProtocol, new[] { SslProtocols.Tls12, SslProtocols.Tls13 });
        if (offered != SslProtocols.None)
        {
            Assert.Equal(offered, ssl.SslProtocol);
        }

        Assert.Contains(ssl.NegotiatedCipherSuite, SpecSuites);
        if (ssl.SslProtocol == SslProtocols.Tls12)
        {
            // The server certificate is RSA, so of the two TLS 1.2 suites only the RSA one applies.
            Assert.Equal(TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, ssl.NegotiatedCipherSuite);
        }
    }

    [Theory]
    [InlineData(SslProtocols.Tls13, TlsCipherSuite.TLS_AES_256_GCM_SHA384)]
    [InlineData(SslProtocols.Tls13, TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)]
    public async Task Each_spec_suite_is_accepted_when_it_is_the_only_one_offered(SslProtocols protocol, TlsCipherSuite suite)
    {
        await using var ssl = await HandshakeAsync(protocol, new CipherSuitesPolicy([suite]));
        Assert.Equal(suite, ssl.NegotiatedCipherSuite);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384)]
    [InlineData(SslProtocols.Tls12, TlsCipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384)]
    [InlineData(SslProtocols.Tls13, TlsCipherSuite.TLS_AES_128_GCM_SHA256)]
    public async Task Handshake_offering_only_non_spec_suites_fails(SslProtocols protocol, TlsCipherSuite suite)
    {
        await Assert.ThrowsAnyAsync<AuthenticationException>(async () =>
        {
            await using var ssl = await HandshakeAsync(protocol, new CipherSuitesPolicy([suite]));
        });
    }

    [Fact]
    public async Task OpenSSL_s_client_gets_ECDHE_RSA_AES256_GCM_SHA384_on_TLS_1_2()
    {
        // An independent TLS stack as a control for the refusals below.
        var run = await SClientAsync("-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384");
        Assert.True(run.ExitCode == 0, run.StandardOutput + run.StandardError);
        Assert.Contains("ECDHE-RSA-AES256-GCM-SHA384", run.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")]
    [InlineData("-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305")]
    [InlineData("-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384")]
    [InlineData("-tls1_2", "-cipher", "AES256-GCM-SHA384")]
    [InlineData("-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256")]
    public async Task OpenSSL_s_client_offering_only_a_non_spec_suite_fails_the_handshake(string protocol, string option, string suite)
    {
        var run = await SClientAsync(protocol, option, suite);
        Assert.True(run.ExitCode != 0, $"handshake with {suite} succeeded: {run.StandardOutput}");
        Assert.DoesNotContain("Cipher is " + suite, run.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-tls1")]
    [InlineData("-tls1_1")]
    public async Task OpenSSL_s_client_with_TLS_1_0_or_1_1_fails_the_handshake(string protocol)
    {
        // Debian's OpenSSL may refuse these itself (security level); either way no session may exist.
        var run = await SClientAsync(protocol, "-cipher", "ALL:@SECLEVEL=0");
        Assert.True(run.ExitCode != 0, run.StandardOutput);
    }

    private Task<ExternalTool.Output> SClientAsync(params string[] options) =>
        ExternalTool.RunAsync(OpenSsl, ["s_client", "-connect", $"127.0.0.1:{tls.XksUrl.Port}", "-servername", "localhost",
            "-CAfile", tls.Pki.Ca.CertificatePath, "-verify_return_error", .. options]);

    private async Task<SslStream> HandshakeAsync(SslProtocols protocols, CipherSuitesPolicy? suites)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, tls.XksUrl.Port);
        var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(tls.ClientOptions(protocols: protocols, suites: suites));
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync();
            client.Dispose();
            throw;
        }
    }
}
