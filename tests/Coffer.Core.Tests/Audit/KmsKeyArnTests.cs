using Coffer.Audit;

namespace Coffer.Core.Tests.Audit;

public sealed class KmsKeyArnTests
{
    [Theory]
    [InlineData("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "eu-west-1", "123456789012")]
    [InlineData("arn:aws-us-gov:kms:us-gov-west-1:000000000001:key/k", "us-gov-west-1", "000000000001")]
    [InlineData("arn:aws-cn:kms:cn-north-1:999999999999:key/a:b", "cn-north-1", "999999999999")]
    public void TryParse_splits_region_and_account(string arn, string region, string account)
    {
        Assert.True(KmsKeyArn.TryParse(arn, out var r, out var a));
        Assert.Equal(region, r);
        Assert.Equal(account, a);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("arn")]
    [InlineData("arn:aws:kms")]
    [InlineData("arn:aws:kms:eu-west-1:123456789012")]
    [InlineData("arn:aws:kms:eu-west-1:123456789012:alias/x")]
    [InlineData("arn:aws:kms:eu-west-1:123456789012:key/")]
    [InlineData("arn:aws:s3:eu-west-1:123456789012:key/x")]
    [InlineData("arn:aws:kms:EU-WEST-1:123456789012:key/x")]
    [InlineData("arn:aws:kms:eu-west-1:12345678901:key/x")]
    [InlineData("arn:aws:kms:eu-west-1:12345678901x:key/x")]
    [InlineData("arn::kms:eu-west-1:123456789012:key/x")]
    [InlineData("nra:aws:kms:eu-west-1:123456789012:key/x")]
    [InlineData("arn:aws:kms::123456789012:key/x")]
    public void TryParse_refuses_malformed_ARNs(string? arn)
    {
        Assert.False(KmsKeyArn.TryParse(arn, out var region, out var account));
        Assert.Null(region);
        Assert.Null(account);
    }

    [Fact]
    public void TryParse_never_throws_on_arbitrary_input()
    {
        var random = new Random(4);
        const string alphabet = "arn:awskm-/0123456789\0\ud800é ";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 80)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var text = (i % 3 == 0 ? "arn:aws:kms:" : "") + new string(chars);
            var parsed = KmsKeyArn.TryParse(text, out var region, out var account);
            Assert.Equal(parsed, region is not null && account is not null);
        }

        Assert.False(KmsKeyArn.TryParse(new string('a', 100_000), out _, out _));
    }

    [Fact]
    public void WithKmsKeyArn_fills_region_and_account_only_when_the_ARN_parses()
    {
        var good = new AuditEvent { Action = "xks.encrypt" }.WithKmsKeyArn("arn:aws:kms:eu-central-1:111122223333:key/k");
        var bad = new AuditEvent { Action = "xks.encrypt" }.WithKmsKeyArn("not an arn");

        Assert.Equal(("eu-central-1", "111122223333"), (good.AwsRegion, good.AwsAccount));
        Assert.Equal("not an arn", bad.KmsKeyArn);
        Assert.Null(bad.AwsRegion);
        Assert.Null(bad.AwsAccount);
    }
}
