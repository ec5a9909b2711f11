using Coffer.Server.Xks.SigV4;
using Coffer.Testing.Signers;

namespace Coffer.Server.Tests.SigV4;

/// <summary>Signs the conformance jobs with botocore (Coffer.Testing's <see cref="BotocoreSigner"/>).</summary>
internal static class Botocore
{
    public static IReadOnlyDictionary<string, SignedRequest> SignAll(IReadOnlyDictionary<string, SigningJob> jobs,
        string[]? onlyHeaders)
    {
        var names = jobs.Keys.ToArray();
        var signed = BotocoreSigner.SignMany(names.Select(name => new BotocoreJob(
            jobs[name].Url, SigV4TestRequests.Body, jobs[name].AccessKeyId, jobs[name].Secret, SigV4TestRequests.Region,
            onlyHeaders, jobs[name].Service, jobs[name].SignedAt)).ToList());
        var result = new Dictionary<string, SignedRequest>();
        for (var i = 0; i < names.Length; i++)
        {
            result[names[i]] = new SignedRequest(jobs[names[i]].Url, SigV4TestRequests.Body,
                signed[i].ToDictionary(p => p.Key, p => p.Value ?? string.Empty, StringComparer.OrdinalIgnoreCase));
        }

        return result;
    }
}

/// <summary>botocore signing every header it has: content-type;host;x-amz-date.</summary>
public sealed class BotocoreSignerTests : SignerConformanceTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, SignedRequest>> All =
        new(() => Botocore.SignAll(Jobs, onlyHeaders: null));

    protected override IReadOnlyDictionary<string, SignedRequest> Signed => All.Value;

    protected override string ExpectedSignedHeaders => "content-type;host;x-amz-date";

    [Fact]
    public void Percent_encoded_path_is_canonicalised_twice_like_botocore() =>
        Assert.Equal(SigV4Failure.None, Verify(Signed[EncodedPath]));
}

/// <summary>botocore restricted to host;x-amz-date: what AWS KMS itself sends (XKS spec, "Authentication").</summary>
public sealed class BotocoreKmsStyleSignerTests : SignerConformanceTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, SignedRequest>> All =
        new(() => Botocore.SignAll(Jobs, onlyHeaders: ["host", "x-amz-date"]));

    protected override IReadOnlyDictionary<string, SignedRequest> Signed => All.Value;

    protected override string ExpectedSignedHeaders => "host;x-amz-date";
}
