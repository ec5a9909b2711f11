using Coffer.Server.Xks.SigV4;

namespace Coffer.Server.Tests.SigV4;

/// <summary>What one signing run asks of an independent signer.</summary>
public sealed record SigningJob(string AccessKeyId, string Secret, string Service, DateTimeOffset SignedAt)
{
    public Uri Url { get; init; } = SigV4TestRequests.Url;
}

/// <summary>
/// The verifier against one independent SigV4 signer (testing-notes: AWSSDK.Core's AWS4Signer,
/// botocore). Every signer gets the same cases; derived classes only say how to sign. Each signer
/// signs its whole batch once, because botocore runs in a Python process.
/// </summary>
public abstract class SignerConformanceTests
{
    protected const string Valid = "valid";
    private const string WrongSecretJob = "wrong-secret";
    private const string WrongServiceJob = "wrong-service";
    private const string UnknownKeyJob = "unknown-key";
    private const string RotatedKeyJob = "rotated-key";
    private const string SixMinutesOld = "six-minutes-old";
    private const string SixMinutesAhead = "six-minutes-ahead";
    private const string FiveMinutesOld = "five-minutes-old";
    private const string FiveMinutesAhead = "five-minutes-ahead";
    protected const string EncodedPath = "encoded-path";

    public static IReadOnlyDictionary<string, SigningJob> Jobs { get; } = new Dictionary<string, SigningJob>
    {
        [Valid] = Job(),
        [WrongSecretJob] = Job() with { Secret = SigV4TestRequests.OtherSecret },
        [WrongServiceJob] = Job() with { Service = "kms" },
        [UnknownKeyJob] = Job() with { AccessKeyId = SigV4TestRequests.UnknownAccessKeyId },
        [RotatedKeyJob] = Job() with
        {
            AccessKeyId = SigV4TestRequests.SecondAccessKeyId, Secret = SigV4TestRequests.SecondSecret,
        },
        [SixMinutesOld] = Job() with { SignedAt = SigV4TestRequests.Now.AddMinutes(-6) },
        [SixMinutesAhead] = Job() with { SignedAt = SigV4TestRequests.Now.AddMinutes(6) },
        [FiveMinutesOld] = Job() with { SignedAt = SigV4TestRequests.Now.AddMinutes(-5) },
        [FiveMinutesAhead] = Job() with { SignedAt = SigV4TestRequests.Now.AddMinutes(5) },
        [EncodedPath] = Job() with { Url = new Uri("https://xks.example.com:8443/coffer/kms/xks/v1/keys/k%24y%201/encrypt") },
    };

    /// <summary>The signed requests, by job name (each derived class caches them per signer).</summary>
    protected abstract IReadOnlyDictionary<string, SignedRequest> Signed { get; }

    /// <summary>The SignedHeaders this signer is expected to produce.</summary>
    protected abstract string ExpectedSignedHeaders { get; }

    private readonly SigV4Verifier _verifier = SigV4TestRequests.NewVerifier();

    [Fact]
    public void Signer_signs_the_expected_headers()
    {
        Assert.True(SigV4Authorization.TryParse(Signed[Valid].Authorization, out var auth));
        Assert.Equal(ExpectedSignedHeaders, auth.SignedHeaders);
        Assert.Equal(SigV4Verifier.Service, auth.Service);
        Assert.Equal(SigV4TestRequests.Region, auth.Region);
    }

    [Fact]
    public void Valid_signature_is_accepted() => Assert.Equal(SigV4Failure.None, Verify(Signed[Valid]));

    [Fact]
    public void Valid_signature_is_accepted_again_from_the_signing_key_cache()
    {
        Assert.Equal(SigV4Failure.None, Verify(Signed[Valid]));
        Assert.Equal(1, _verifier.SigningKeys.Count);
        Assert.Equal(SigV4Failure.None, Verify(Signed[Valid]));
    }

    [Fact]
    public void Valid_signature_is_accepted_without_a_raw_target() =>
        Assert.Equal(SigV4Failure.None, SigV4TestRequests.Verify(_verifier, Signed[Valid], withRawTarget: false));

    [Fact]
    public void Second_credential_of_the_key_store_is_accepted_too() =>
        Assert.Equal(SigV4Failure.None, Verify(Signed[RotatedKeyJob]));

    [Fact]
    public void Signature_from_another_secret_is_rejected() =>
        Assert.Equal(SigV4Failure.SignatureMismatch, Verify(Signed[WrongSecretJob]));

    [Fact]
    public void Signature_for_another_service_is_rejected() =>
        Assert.Equal(SigV4Failure.WrongService, Verify(Signed[WrongServiceJob]));

    [Fact]
    public void Unknown_access_key_is_rejected() =>
        Assert.Equal(SigV4Failure.UnknownAccessKey, Verify(Signed[UnknownKeyJob]));

    [Fact]
    public void Request_signed_six_minutes_ago_is_too_old() =>
        Assert.Equal(SigV4Failure.RequestTooOld, Verify(Signed[SixMinutesOld]));

    [Fact]
    public void Request_signed_six_minutes_ahead_is_in_the_future() =>
        Assert.Equal(SigV4Failure.RequestInFuture, Verify(Signed[SixMinutesAhead]));

    [Fact]
    public void Request_exactly_five_minutes_off_either_way_is_accepted()
    {
        Assert.Equal(SigV4Failure.None, Verify(Signed[FiveMinutesOld]));
        Assert.Equal(SigV4Failure.None, Verify(Signed[FiveMinutesAhead]));
    }

    [Fact]
    public void Credential_scope_date_other_than_the_request_date_is_rejected()
    {
        var valid = Signed[Valid];
        var date = valid.Headers["X-Amz-Date"][..8];
        var tampered = valid.WithHeader("Authorization",
            valid.Authorization.Replace($"/{date}/", "/20250614/", StringComparison.Ordinal));
        Assert.Equal(SigV4Failure.CredentialScopeDateMismatch, Verify(tampered));
    }

    [Fact]
    public void Request_date_changed_after_signing_is_rejected()
    {
        var valid = Signed[Valid];
        var tampered = valid.WithHeader("X-Amz-Date", valid.Headers["X-Amz-Date"][..^3] + "01Z");
        Assert.Equal(SigV4Failure.SignatureMismatch, Verify(tampered));
    }

    [Fact]
    public void Body_changed_after_signing_is_rejected()
    {
        var changed = SigV4TestRequests.Body.ToArray();
        changed[^3] ^= 0x01;
        Assert.Equal(SigV4Failure.SignatureMismatch,
            SigV4TestRequests.Verify(_verifier, Signed[Valid] with { Body = changed }));
    }

    [Fact]
    public void Host_changed_after_signing_is_rejected()
    {
        var valid = Signed[Valid];
        Assert.Equal(SigV4Failure.SignatureMismatch,
            Verify(valid with { Url = new Uri("https://xks.example.com:9443" + valid.Url.PathAndQuery) }));
        Assert.Equal(SigV4Failure.SignatureMismatch,
            Verify(valid with { Url = new Uri("https://other.example.com:8443" + valid.Url.PathAndQuery) }));
    }

    [Fact]
    public void Path_changed_after_signing_is_rejected()
    {
        var valid = Signed[Valid];
        var decrypt = new Uri(valid.Url.ToString().Replace("/encrypt", "/decrypt", StringComparison.Ordinal));
        Assert.Equal(SigV4Failure.SignatureMismatch, Verify(valid with { Url = decrypt }));
    }

    [Fact]
    public void Signed_host_header_missing_from_the_request_is_rejected()
    {
        var request = SigV4TestRequests.ToHttpRequest(Signed[Valid]);
        request.Headers.Host = default;
        Assert.Equal(SigV4Failure.SignedHeaderMissing,
            _verifier.Verify(request, System.Security.Cryptography.SHA256.HashData(SigV4TestRequests.Body),
                SigV4TestRequests.Lookup, out _));
    }

    [Fact]
    public void Content_type_removed_after_signing_fails_only_if_it_was_signed()
    {
        var expected = ExpectedSignedHeaders.Contains("content-type", StringComparison.Ordinal)
            ? SigV4Failure.SignedHeaderMissing
            : SigV4Failure.None;
        Assert.Equal(expected, Verify(Signed[Valid].WithHeader("Content-Type", null)));
    }

    [Fact]
    public void Unsigned_header_added_after_signing_is_ignored() =>
        Assert.Equal(SigV4Failure.None, Verify(Signed[Valid].WithHeader("X-Forwarded-For", "203.0.113.7")));

    [Fact]
    public void Missing_date_header_is_rejected() =>
        Assert.Equal(SigV4Failure.MissingDate, Verify(Signed[Valid].WithHeader("X-Amz-Date", null)));

    [Fact]
    public void Missing_authorization_header_is_rejected() =>
        Assert.Equal(SigV4Failure.MissingAuthorization, Verify(Signed[Valid].WithHeader("Authorization", null)));

    [Fact]
    public void Host_removed_from_the_signed_headers_is_rejected() =>
        Assert.Equal(SigV4Failure.HostNotSigned, Verify(WithoutSignedHeader(Signed[Valid], "host")));

    [Fact]
    public void Date_removed_from_the_signed_headers_is_rejected() =>
        Assert.Equal(SigV4Failure.DateNotSigned, Verify(WithoutSignedHeader(Signed[Valid], "x-amz-date")));

    [Fact]
    public void Authentication_failure_reports_the_parsed_access_key_but_never_the_signature()
    {
        var request = SigV4TestRequests.ToHttpRequest(Signed[WrongSecretJob]);
        var failure = _verifier.Verify(request,
            System.Security.Cryptography.SHA256.HashData(SigV4TestRequests.Body), SigV4TestRequests.Lookup,
            out var auth);
        Assert.Equal(SigV4Failure.SignatureMismatch, failure);
        Assert.Equal(SigV4TestRequests.AccessKeyId, auth.AccessKeyId);
        var signatureHex = Signed[WrongSecretJob].Authorization.Split("Signature=")[1];
        Assert.DoesNotContain(signatureHex, auth.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    protected SigV4Failure Verify(SignedRequest signed) => SigV4TestRequests.Verify(_verifier, signed);

    protected static SignedRequest WithoutSignedHeader(SignedRequest signed, string name)
    {
        Assert.True(SigV4Authorization.TryParse(signed.Authorization, out var auth));
        var remaining = string.Join(';', auth.SignedHeaders.Split(';').Where(h => h != name));
        return signed.WithHeader("Authorization", signed.Authorization.Replace(
            "SignedHeaders=" + auth.SignedHeaders, "SignedHeaders=" + remaining, StringComparison.Ordinal));
    }

    private static SigningJob Job() => new(SigV4TestRequests.AccessKeyId, SigV4TestRequests.Secret,
        SigV4Verifier.Service, SigV4TestRequests.Now);
}
