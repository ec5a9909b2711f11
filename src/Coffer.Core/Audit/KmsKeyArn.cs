namespace Coffer.Audit;

/// <summary>The parts of a KMS key ARN that audit and policy filter on.</summary>
public static class KmsKeyArn
{
    /// <summary>
    /// Splits <c>arn:PARTITION:kms:REGION:ACCOUNT:key/...</c> (any partition: aws, aws-cn, aws-us-gov, ...)
    /// into region and account. False, with both null, for anything else — it never throws, since the
    /// ARN comes from the request (XKS requestMetadata.kmsKeyArn) and may be anything.
    /// </summary>
    public static bool TryParse(string? arn, out string? region, out string? account)
    {
        region = null;
        account = null;
        if (string.IsNullOrEmpty(arn) || arn.Length > 2048)
        {
            return false;
        }

        // ARN format: arn:partition:service:region:account-id:resource (the resource may hold ':').
        var parts = arn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn" || parts[1].Length == 0 || parts[2] != "kms"
            || !IsRegion(parts[3]) || !IsAccount(parts[4]) || !parts[5].StartsWith("key/", StringComparison.Ordinal) || parts[5].Length == 4)
        {
            return false;
        }

        region = parts[3];
        account = parts[4];
        return true;
    }

    // Regions are lower-case letters, digits and '-' (eu-west-1, us-gov-west-1, cn-north-1).
    private static bool IsRegion(string s) =>
        s.Length is > 0 and <= 32 && s.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    // An AWS account id is exactly 12 digits.
    private static bool IsAccount(string s) => s.Length == 12 && s.All(char.IsAsciiDigit);
}
