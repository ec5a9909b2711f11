using System.Net;
using System.Security.Authentication;
using Coffer.Testing;

namespace Coffer.Server.Tests.Tls;

/// <summary>mTLS on the XKS listener (XKS spec, "Authentication": a configurable client CA and
/// required subject; AWS presents CN=cks.kms.&lt;region&gt;.amazonaws.com; a client certificate
/// with another subject or CA must fail the handshake, never reach HTTP).</summary>
public sealed class MutualTlsTests(MutualTlsNode tls) : IClassFixture<MutualTlsNode>
{
    // Not listed: a certificate from the CA with the right subject but a serverAuth-only EKU is
    // accepted today (no EKU check); see the report before tightening it, since public CAs are
    // dropping clientAuth from server certificates.
    private static readonly string[] BadClientNames = ["wrong-subject", "expired", "self-signed", "other-ca", "none"];

    public static TheoryData<string> BadClients => new(BadClientNames);

    public static TheoryData<string, SslProtocols> BadClientsPerProtocol
    {
        get
        {
            var data = new TheoryData<string, SslProtocols>();
            foreach (var client in BadClientNames)
            {
                data.Add(client, SslProtocols.Tls12);
                data.Add(client, SslProtocols.Tls13);
            }

            return data;
        }
    }

    [Fact]
    public async Task Good_client_certificate_completes_a_signed_XKS_call()
    {
        var info = tls.Node.Info;
        var result = await Curl.XksAsync(info.XksBaseUrl + "/keys/demo-key/metadata", info.AccessKeyId, info.SecretAccessKey,
            Curl.MetadataBody(), tls.CurlTls(tls.Pki.GoodClient));

        Assert.True(result.HttpStatus == 200, $"curl exit {result.ExitCode}, HTTP {result.HttpStatus}: {result.Body} {result.Error}");
        Assert.Contains("\"keySpec\":\"AES_256\"", result.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Good_client_certificate_reaches_HTTP_on_both_protocols(SslProtocols protocol)
    {
        using var http = tls.Client(tls.Pki.GoodClient.Certificate, protocol);
        using var ping = await http.GetAsync("/ping");
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);

        // TLS let it through; SigV4 still decides.
        using var unsigned = await http.PostAsync("/demo/kms/xks/v1/keys/demo-key/metadata",
            new StringContent(Curl.MetadataBody(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
    }

    [Theory]
    [MemberData(nameof(BadClientsPerProtocol))]
    public async Task Bad_client_certificate_fails_the_handshake_not_with_an_HTTP_status(string client, SslProtocols protocol)
    {
        using var http = tls.Client(Pem(client)?.Certificate, protocol);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/ping"));

        // No HTTP status: the connection ends before any HTTP exchange. On Linux, .NET 10 checks the
        // client certificate right after OpenSSL finishes the handshake and then closes the
        // connection without an alert (dotnet/runtime#18837), so the client sees an I/O error
        // rather than an AuthenticationException.
        Assert.Null(error.StatusCode);
        Assert.Contains(Chain(error), e => e is System.IO.IOException or AuthenticationException);
    }

    [Theory]
    [MemberData(nameof(BadClients))]
    public async Task Bad_client_certificate_fails_the_TLS_handshake_for_curl(string client)
    {
        var info = tls.Node.Info;
        var result = await Curl.XksAsync(info.XksBaseUrl + "/keys/demo-key/metadata", info.AccessKeyId, info.SecretAccessKey,
            Curl.MetadataBody(), tls.CurlTls(Pem(client)));

        // curl sees the connection end with no HTTP answer: 35 (handshake) or, because .NET closes
        // right after the handshake on Linux (see above), 52/55/56 (HTTP/1.1) or 16/18 (HTTP/2).
        Assert.True(result.ExitCode is 16 or 18 or 35 or 52 or 55 or 56, $"curl exit {result.ExitCode}, HTTP {result.HttpStatus}: {result.Body} {result.Error}");
        Assert.Equal(0, result.HttpStatus);
        Assert.Empty(result.Body);
    }

    [Fact]
    public async Task Rejected_client_certificates_never_reach_the_XKS_handler()
    {
        // The XKS handler logs every call (event 2000) and every SigV4 rejection (2001).
        static bool FromXksHandler(string line) => line.Contains("XksHandler[2000]", StringComparison.Ordinal) || line.Contains("XksHandler[2001]", StringComparison.Ordinal);
        using var body = new StringContent(Curl.MetadataBody(), System.Text.Encoding.UTF8, "application/json");

        // Control: an unsigned call with the good certificate reaches the handler and is logged.
        var before = tls.Node.Logs.Lines.Count;
        using (var good = tls.Client(tls.Pki.GoodClient.Certificate, SslProtocols.Tls12))
        using (var response = await good.PostAsync("/demo/kms/xks/v1/keys/demo-key/metadata", body))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Contains(tls.Node.Logs.Lines.Skip(before), FromXksHandler);

        before = tls.Node.Logs.Lines.Count;
        foreach (var client in new[] { tls.Pki.WrongSubjectClient, tls.Pki.OtherCaClient })
        {
            using var bad = tls.Client(client.Certificate, SslProtocols.Tls13);
            await Assert.ThrowsAsync<HttpRequestException>(() => bad.PostAsync("/demo/kms/xks/v1/keys/demo-key/metadata", body));
        }

        Assert.DoesNotContain(tls.Node.Logs.Lines.Skip(before), FromXksHandler);
    }

    private PemCertificate? Pem(string client) => client switch
    {
        "wrong-subject" => tls.Pki.WrongSubjectClient,
        "expired" => tls.Pki.ExpiredClient,
        "self-signed" => tls.Pki.SelfSignedClient,
        "other-ca" => tls.Pki.OtherCaClient,
        "none" => null,
        _ => throw new ArgumentOutOfRangeException(nameof(client)),
    };

    private static IEnumerable<Exception> Chain(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
