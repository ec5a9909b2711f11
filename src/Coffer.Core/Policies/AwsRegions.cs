using System.Collections.Frozen;

namespace Coffer.Policies;

/// <summary>
/// The AWS regions Coffer knows by name, so that a kill switch for a misspelt region (eu-west-9) is
/// refused instead of blocking nothing. Source: AWS's list of regions
/// (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html), with GovCloud,
/// China and the European Sovereign Cloud. A region AWS opens later is named through a region set of
/// the user's (sets hold any region name), until this list learns it. A few dozen names do not
/// justify an AWS SDK dependency in the server.
/// </summary>
public static class AwsRegions
{
    private static readonly FrozenSet<string> Known = new[]
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "ca-central-1", "ca-west-1", "mx-central-1", "sa-east-1",
        "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
        "eu-south-1", "eu-south-2", "eu-north-1",
        "il-central-1", "me-south-1", "me-central-1", "af-south-1",
        "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
        "us-gov-east-1", "us-gov-west-1",
        "cn-north-1", "cn-northwest-1",
        "eusc-de-east-1",
    }.ToFrozenSet(StringComparer.Ordinal);

    public static bool IsKnown(string? region) => region is not null && Known.Contains(region);
}
