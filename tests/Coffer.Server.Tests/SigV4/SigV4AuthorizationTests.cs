using System.Security.Cryptography;
using Coffer.Server.Xks.SigV4;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Tests.SigV4;

public sealed class SigV4AuthorizationTests
{
    private const string Signature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    private const string Header =
        "AWS4-HMAC-SHA256 Credential=AKIAXKSTESTPRIMARY7Q/20250615/eu-west-1/kms-xks-proxy/aws4_request, " +
        "SignedHeaders=host;x-amz-date, Signature=" + Signature;

    [Fact]
    public void Header_as_AWS_KMS_sends_it_parses()
    {
        Assert.True(SigV4Authorization.TryParse(Header, out var auth));
        Assert.Equal("AKIAXKSTESTPRIMARY7Q", auth.AccessKeyId);
        Assert.Equal("20250615", auth.Date);
        Assert.Equal("eu-west-1", auth.Region);
        Assert.Equal("kms-xks-proxy", auth.Service);
        Assert.Equal("host;x-amz-date", auth.SignedHeaders);
        Assert.Equal(Signature, Convert.ToHexStringLower(auth.Signature));
    }

    [Fact]
    public void Header_without_spaces_and_in_another_order_parses()
    {
        Assert.True(SigV4Authorization.TryParse(
            "AWS4-HMAC-SHA256 Signature=" + Signature + ",SignedHeaders=host;x-amz-date," +
            "Credential=AKID/20250615/eu-west-1/kms-xks-proxy/aws4_request", out var auth));
        Assert.Equal("AKID", auth.AccessKeyId);
    }

    [Fact]
    public void Access_key_id_containing_a_slash_parses_from_the_right()
    {
        // XKS spec: the public test client accepts [A-Za-z0-9/_-] ids.
        Assert.True(SigV4Authorization.TryParse(Header.Replace("AKIAXKSTESTPRIMARY7Q", "team_a/key-1"), out var auth));
        Assert.Equal("team_a/key-1", auth.AccessKeyId);
        Assert.Equal("eu-west-1", auth.Region);
    }

    [Fact]
    public void ToString_shows_the_scope_but_never_the_signature()
    {
        Assert.True(SigV4Authorization.TryParse(Header, out var auth));
        Assert.Contains("AKIAXKSTESTPRIMARY7Q/20250615/eu-west-1/kms-xks-proxy/aws4_request", auth.ToString());
        Assert.DoesNotContain(Signature, auth.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("(none)", default(SigV4Authorization).ToString());
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("AWS4-HMAC-SHA512 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")]
    [InlineData("AWS4-ECDSA-P256-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request")]
    [InlineData("aws4-hmac-sha256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    public void Other_algorithm_is_unsupported(string header) =>
        Assert.Equal(SigV4Failure.UnsupportedAlgorithm, SigV4Authorization.Parse(header, out _));

    [Theory]
    [InlineData("AWS4-HMAC-SHA256")]
    [InlineData("AWS4-HMAC-SHA256 ")]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date")]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=x-amz-date;host, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=Host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d")]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "zz672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature + ", Extra=1")]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_req, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/2025061/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615//kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A B/20250615/eu-west-1/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu west/kms-xks-proxy/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 Credential=A/20250615/eu-west-1/kms-xks-proxy/aws4_request,, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    [InlineData("AWS4-HMAC-SHA256 =A, SignedHeaders=host;x-amz-date, Signature=" + Signature)]
    public void Malformed_header_is_rejected(string header) =>
        Assert.Equal(SigV4Failure.MalformedAuthorization, SigV4Authorization.Parse(header, out _));

    [Fact]
    public void Oversized_header_is_rejected_without_parsing() =>
        Assert.Equal(SigV4Failure.MalformedAuthorization,
            SigV4Authorization.Parse(Header + new string(' ', 10) + new string('a', 5000), out _));

    [Fact]
    public void Random_and_mutated_headers_never_throw()
    {
        // Deterministic fuzz: mutations of a valid header plus random junk, through both the parser
        // and the whole verifier (which must return a failure, never throw).
        var random = new Random(20250615);
        var verifier = SigV4TestRequests.NewVerifier();
        var bodyHash = SHA256.HashData("{}"u8);
        const string alphabet = "AWS4-HMAC-SHA256 Credential=/,;= \t\"\\%\0\u00e9\u1234\ud800abcdefhostx-amz-date0123456789aws4_request";
        var tried = 0;
        for (var i = 0; i < 600; i++)
        {
            var chars = Header.ToCharArray().ToList();
            var mutations = random.Next(1, 6);
            for (var m = 0; m < mutations && chars.Count > 0; m++)
            {
                var at = random.Next(chars.Count);
                switch (random.Next(5))
                {
                    case 0:
                        chars[at] = alphabet[random.Next(alphabet.Length)];
                        break;
                    case 1:
                        chars.RemoveAt(at);
                        break;
                    case 2:
                        chars.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                    case 3:
                        chars.RemoveRange(at, chars.Count - at);
                        break;
                    default:
                        chars.InsertRange(at, chars.GetRange(0, Math.Min(chars.Count, random.Next(40))));
                        break;
                }
            }

            var header = i % 10 == 9
                ? new string(Enumerable.Range(0, random.Next(200)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray())
                : new string(chars.ToArray());

            _ = SigV4Authorization.TryParse(header, out _);
            var context = new DefaultHttpContext();
            context.Request.Method = "POST";
            context.Request.Host = new HostString("xks.example.com");
            context.Request.Path = "/coffer/kms/xks/v1/health";
            context.Request.Headers.Authorization = header;
            context.Request.Headers["X-Amz-Date"] = "20250615T120000Z";
            var failure = verifier.Verify(context.Request, bodyHash, SigV4TestRequests.Lookup, out _);
            Assert.True(Enum.IsDefined(failure));
            Assert.NotEqual(SigV4Failure.None, failure);
            tried++;
        }

        Assert.Equal(600, tried);
    }
}
