using System.Security.Cryptography;
using System.Text;
using Coffer.Server.Xks.SigV4;
using Coffer.Testing;

namespace Coffer.Server.Tests.SigV4;

/// <summary>
/// The AWS Signature Version 4 test suite (tests/vectors/sigv4, see its SOURCE.md) through the
/// verifier's own canonical builder: .req → canonical request == .creq → string to sign == .sts →
/// signature == .authz, for every one of the 34 cases. None is excluded: the cases XKS never sees
/// (query strings, session tokens, folded or repeated headers, dot segments) still exercise the
/// builder the verifier uses, so its general SigV4 behaviour is pinned too.
/// </summary>
public sealed class AwsSigV4SuiteTests
{
    private const string AccessKeyId = "AKIDEXAMPLE";
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string Region = "us-east-1";
    private const string Service = "service";
    private const string AmzDate = "20150830T123600Z";

    // SOURCE.md: get-vanilla-with-session-token's token is not in its .req; the signer adds it.
    private const string SessionToken = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";

    private const int ExpectedCaseCount = 34;

    private static readonly string SuiteRoot = TestData.PathOf("sigv4");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in CaseNames())
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void Suite_has_all_34_cases_and_every_one_runs()
    {
        var names = CaseNames();
        Assert.Equal(ExpectedCaseCount, names.Count);
        Assert.Equal(ExpectedCaseCount, Cases().Count);
        Assert.Contains("normalize-path/get-space", names);
        Assert.Contains("post-sts-token/post-sts-header-after", names);

        // Also run them all here in one go, so the count of cases that actually passed is asserted.
        var passed = 0;
        foreach (var name in names)
        {
            Case_matches_canonical_request_string_to_sign_and_signature(name);
            passed++;
        }

        Assert.Equal(ExpectedCaseCount, passed);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_matches_canonical_request_string_to_sign_and_signature(string name)
    {
        var folder = Path.Combine(SuiteRoot, name);
        var stem = Path.Combine(folder, Path.GetFileName(name));
        var request = ParseRequest(File.ReadAllText(stem + ".req", Encoding.UTF8));
        if (name == "get-vanilla-with-session-token")
        {
            request.Headers.Add(new("X-Amz-Security-Token", SessionToken));
        }

        Assert.True(SigV4Authorization.TryParse(File.ReadAllText(stem + ".authz"), out var authz));
        Assert.Equal((AccessKeyId, "20150830", Region, Service), (authz.AccessKeyId, authz.Date, authz.Region, authz.Service));

        // The suite signs every header of the request: the signed list must be exactly those names.
        var names = request.Headers.Select(h => h.Key.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(string.Join(';', names), authz.SignedHeaders);

        var canonical = SigV4Canonical.BuildCanonicalRequest(request.Method, request.Path, request.Query,
            request.Headers, authz.SignedHeaders, Convert.ToHexStringLower(SHA256.HashData(request.Body)));
        Assert.Equal(File.ReadAllText(stem + ".creq"), canonical);

        var stringToSign = SigV4Canonical.BuildStringToSign(AmzDate, authz.Date, authz.Region, authz.Service, canonical!);
        Assert.Equal(File.ReadAllText(stem + ".sts"), stringToSign);

        var signature = SigV4Canonical.ComputeSignatureHex(Encoding.UTF8.GetBytes(Secret), authz.Date, authz.Region,
            authz.Service, stringToSign);
        Assert.Equal(Convert.ToHexStringLower(authz.Signature), signature);
    }

    [Fact]
    public void Signing_key_matches_the_AWS_documentation_example()
    {
        // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4":
        // secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
        Span<byte> key = stackalloc byte[32];
        SigV4Canonical.DeriveSigningKey(Encoding.UTF8.GetBytes(Secret), "20120215", "us-east-1", "iam", key);
        Assert.Equal("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d", Convert.ToHexStringLower(key));
    }

    private static List<string> CaseNames() =>
        Directory.EnumerateFiles(SuiteRoot, "*.req", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(SuiteRoot, Path.GetDirectoryName(path)!).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    private sealed record RawRequest(string Method, string Path, string Query,
        List<KeyValuePair<string, string>> Headers, byte[] Body);

    /// <summary>
    /// Parses a suite .req: "METHOD TARGET HTTP/1.1" (the target may hold a raw space or UTF-8),
    /// "Name:value" lines in arrival order, obs-fold continuation lines joined with one SP as
    /// RFC 9112 5.2 allows, a blank line, then the body.
    /// </summary>
    private static RawRequest ParseRequest(string text)
    {
        var lines = text.Split('\n');
        var requestLine = lines[0];
        var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
        var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(' ')];
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? "" : target[(question + 1)..];

        var headers = new List<KeyValuePair<string, string>>();
        var i = 1;
        for (; i < lines.Length && lines[i].Length > 0; i++)
        {
            if (lines[i][0] is ' ' or '\t')
            {
                var last = headers[^1];
                headers[^1] = new(last.Key, last.Value + " " + lines[i].Trim());
                continue;
            }

            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(lines[i][..colon], lines[i][(colon + 1)..]));
        }

        var body = i + 1 < lines.Length ? string.Join('\n', lines[(i + 1)..]) : "";
        return new RawRequest(method, path, query, headers, Encoding.UTF8.GetBytes(body));
    }
}
